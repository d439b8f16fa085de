"""What the app server itself costs per person, and whether one replica holds a room of 100.

    .venv/bin/python bench/server_capacity.py interactions            # per-interaction CPU
    .venv/bin/python bench/server_capacity.py room --people 100       # a room under load
    .venv/bin/python bench/server_capacity.py validate                # against real Chromium
    ... --baseline-tree /path/to/a/checkout/of/main                    # "before" from that code

Every figure is the Streamlit server process's own CPU time (psutil: user + system), read
before and after each interaction; the runs execute in the runner's own processes and are not
counted. The simulated people are bench/st_client.py sessions: they speak the browser's websocket
protocol (page opens, clicks, the code editor's value, and the fragment reruns a browser's timer
sends for `run_every`), so the server does exactly the work it does for a browser.

`interactions` serves the app twice, alternately: "before" (plain `streamlit run`, the garbage
collection after every script run on; from --baseline-tree when given, else this tree) and
"after" (`python -m app.server`, this tree's configuration). For each it takes the median of
--repeats of: a new visitor opening the start page and a section page, a sidebar click, a trivial
Run, a 3 s Run with live output (its live panel per second of the run), a Check in a room, an idle
server and an idle open page per minute, and an open facilitator dashboard with --dashboard-people
participants per minute. Memory: the server's RSS after the repeats.

`room` serves "after" once, creates a room with --people participants (through the store, as the
join page would), opens each participant's page and the facilitator's dashboard, then every
participant presses Run or Check (--action) every 25-35 s for --seconds. Printed: click-to-result
p50 / p95 / max above the run's own time, errors, and the server's CPU as a share of one core.

`validate` drives N <= 5 real Chromium tabs (Playwright, Debian's chromium) and N protocol clients
through the same trivial Runs and prints the server CPU per Run of each (the generator is valid
when they agree within 20%).

Asserts nothing on time: it prints figures. On a shared box, compare only figures of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import psutil  # noqa: E402
from st_client import BrowserSession  # noqa: E402

TRIVIAL = "print('{token}')\n"
LIVE = ("import time\nfor i in range(30):\n    print(i, flush=True)\n    time.sleep(0.1)\n"
        "print('{token}')\n")
LIVE_SECONDS = 3.0
ROOM_EXERCISE = "jax-vs-numpy/functional-update"
SECTION = "core-transformations"
GOALS_MS = {  # server CPU per interaction that a room of 100 on one core needs
    "open start page (new visitor)": 100, "open section page (new visitor)": 100,
    "sidebar click": 100, "trivial Run": 20, "Check in a room": 40,
    "live panel per second of a run": 10, "idle server per minute": 60,
    "dashboard per minute": 300,
}


# --- the served app ----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    label: str
    process: subprocess.Popen[bytes]
    base: str
    data_dir: Path
    tree: Path

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(self.ps.memory_info().rss) / 2**20


@contextlib.contextmanager
def served(label: str, tree: Path, tuned: bool, scratch: Path,
           extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """The app from `tree`: `python -m app.server` when tuned, else plain `streamlit run` with
    the post-script collection on (Streamlit's default)."""
    import urllib.request

    port = free_port()
    data = scratch / f"{label}-{port}"
    data.mkdir(parents=True)
    env = dict(os.environ, PLAYGROUND_STATE_DIR=str(data / "state"),
               PLAYGROUND_DATA_DIR=str(data / "data"), PLAYGROUND_TIMEOUT_S="30",
               PLAYGROUND_ROOM_MAX_PARTICIPANTS="300", PLAYGROUND_ROOMS_PER_HOUR="100")
    env.update(extra_env or {})
    entry = ["-m", "app.server", "run"] if tuned else [
        "-m", "streamlit", "run", "--runner.postScriptGC", "true"]
    command = [sys.executable, *entry, "app/main.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{label} server did not start; see {data / 'server.log'}")
            time.sleep(0.2)
        yield Server(label, process, base, data, tree)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(15)
        if process.poll() is None:
            os.killpg(process.pid, 9)
        log.close()


# --- what a person does ------------------------------------------------------------------------


def settle(tab: BrowserSession, before_runs: int, before_auto: set[str],
           timeout: float = 90.0) -> float | None:
    """Wait until the tab's draws after an action are over: a script run ended since and no
    timer of a fragment started since is still ticking (a live panel came and went). Returns
    the time the last draw ended, None on a time-out."""
    ok = tab.wait(lambda s: s.finished_runs > before_runs
                  and not (tab.auto_fragments() - before_auto), timeout)
    if not ok:
        return None
    time.sleep(0.3)  # trailing messages of the last draw
    return tab.last_finished_at


def run_code(tab: BrowserSession, code: str, timeout: float = 90.0) -> float | None:
    """Type code in the tab's editor and press Run, as a person with a mouse does (the editor
    sends its text when it loses focus, then the click: two reruns, as in Chromium); seconds
    from the click to the result."""
    token = uuid.uuid4().hex
    editor = tab.widget_of_kind("component_instance")
    tab.type_code(editor, code.format(token=token))
    button = tab.widget("Run")
    runs, auto = tab.state.finished_runs, tab.auto_fragments()
    start = time.monotonic()
    tab.click(button)
    if not tab.wait(lambda s: any(token in t and "print(" not in t for t in s.texts.values()),
                    timeout):
        return None
    end = settle(tab, runs, auto, timeout)
    return None if end is None else end - start


def press(tab: BrowserSession, key_prefix: str, timeout: float = 90.0) -> float | None:
    """Click the button whose key starts with key_prefix; seconds until its draws are over."""
    button = tab.widget(key_prefix)
    runs, auto = tab.state.finished_runs, tab.auto_fragments()
    start = time.monotonic()
    tab.click(button)
    end = settle(tab, runs, auto, timeout)
    return None if end is None else end - start


def cpu_of(server: Server, action: Callable[[], object]) -> float:
    before = server.cpu()
    action()
    return (server.cpu() - before) * 1000.0


# --- rooms through the store (as the create and join pages would) -------------------------------


@dataclass
class RoomLinks:
    code: str
    facilitator_query: str
    participant_queries: list[str]


# Run by the served tree's own code (its store schema and API), in a process of its own, so
# that a "before" tree from an older commit gets rooms it can read. Tolerates both APIs seen so
# far: create_room returning (room, token) or an object with .room and .token, and join_room
# with or without client_id.
_MAKE_ROOM = """
import contextlib, json, random, sys
from app.config import database_url, load
from app.exercises import load_exercises
from app.protocol import RunResult
from app.rooms import learners, rooms
from app.rooms.attempts import new_attempt_key
from app.rooms.catalogue import Item, catalogue
from app.rooms.store import Store

data, people, attempts_each, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
settings = load({"PLAYGROUND_DATA_DIR": data + "/data", "PLAYGROUND_STATE_DIR": data + "/state",
                 "PLAYGROUND_ROOM_MAX_PARTICIPANTS": "300"})
store = Store(database_url(settings))
others = [e.id for e in load_exercises().exercises if e.id != first]
ids = [first, *others[:5]]
created = rooms.create_room(store, settings, catalogue(), name="Load",
                            items=[Item("exercise", i) for i in ids], ends_at=None,
                            client_id="bench")
room, token = (created.room, created.token) if hasattr(created, "room") else created
queries = []
for index in range(people):
    try:  # one join address per simulated person (a per-client join cap)
        who_token = learners.join_room(store, settings, room.code, f"Person {index:03d}",
                                       client_id=f"bench-{index}")
    except TypeError:
        who_token = learners.join_room(store, settings, room.code, f"Person {index:03d}")
    queries.append(f"p={who_token}")
    who = learners.learner(store, who_token)
    for attempt in range(attempts_each):
        status = "ok" if random.random() < 0.4 else "error"
        with contextlib.suppress(Exception):
            learners.record_attempt(store, settings, who, random.choice(ids), new_attempt_key(),
                                    f"# attempt {attempt}", RunResult(status=status))
store.close()
print(json.dumps({"code": room.code, "facilitator": f"room={room.code}&key={token}",
                  "people": queries}))
"""


def make_room(server: Server, people: int, attempts_each: int = 0) -> RoomLinks:
    """A room of `people` participants (and their attempts) in the served app's store, made
    through the store API of the served tree, as its create and join pages would."""
    done = subprocess.run(
        [sys.executable, "-c", _MAKE_ROOM, str(server.data_dir), str(people),
         str(attempts_each), ROOM_EXERCISE],
        cwd=server.tree, capture_output=True, text=True, timeout=600, check=True)
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return RoomLinks(made["code"], made["facilitator"], made["people"])


# --- interactions --------------------------------------------------------------------------------


def median_ms(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_interactions(server: Server, repeats: int, dashboard_people: int,
                         idle_s: float) -> dict[str, float]:
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    warm = BrowserSession(server.base)  # the first visit imports the app's modules
    warm.open("")
    warm.open("playground")
    run_code(warm, TRIVIAL)
    warm.close()
    room = make_room(server, 3)
    for _ in range(repeats):
        tab = BrowserSession(server.base)
        add("open start page (new visitor)", cpu_of(server, lambda t=tab: t.open("")))
        tab.close()
        tab = BrowserSession(server.base)
        add("open section page (new visitor)", cpu_of(server, lambda t=tab: t.open(SECTION)))
        add("sidebar click", cpu_of(server, lambda t=tab: t.open("jit-compilation")))
        tab.open("playground")
        add("trivial Run", cpu_of(server, lambda t=tab: run_code(t, TRIVIAL)))
        live = cpu_of(server, lambda t=tab: run_code(t, LIVE))
        add("3 s Run with live output", live)
        add("live panel per second of a run",
            max(0.0, live - figures["trivial Run"][-1]) / LIVE_SECONDS)
        tab.close()
        person = BrowserSession(server.base, query=room.participant_queries[0])
        person.open("rooms")
        add("Check in a room",
            cpu_of(server, lambda t=person: press(t, f"check::{ROOM_EXERCISE}")))
        person.close()
    time.sleep(1.0)
    add("idle server per minute", cpu_of(server, lambda: time.sleep(idle_s)) * 60 / idle_s)
    tab = BrowserSession(server.base)
    tab.open(SECTION)
    time.sleep(1.0)
    add("idle open page per minute", cpu_of(server, lambda: time.sleep(idle_s)) * 60 / idle_s)
    tab.close()
    big = make_room(server, dashboard_people, attempts_each=3)
    boss = BrowserSession(server.base, query=big.facilitator_query)
    boss.open("rooms")
    time.sleep(2.0)
    add("dashboard per minute", cpu_of(server, lambda: time.sleep(idle_s)) * 60 / idle_s)
    boss.close()
    result = {name: median_ms(values) for name, values in figures.items()}
    result["server RSS MB"] = server.rss_mb()
    return result


def interactions(args: argparse.Namespace) -> int:
    baseline_tree = Path(args.baseline_tree) if args.baseline_tree else REPO
    rows: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        for round_ in range(args.rounds):
            for label in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
                tree, tuned = (baseline_tree, False) if label == "before" else (REPO, True)
                with served(label, tree, tuned, Path(tmp)) as server:
                    figures = measure_interactions(server, args.repeats, args.dashboard_people,
                                                   args.idle_seconds)
                for name, value in figures.items():
                    rows[label].setdefault(name, []).append(value)
                print(f"round {round_ + 1} {label}: done", flush=True)
    print(f"\nServer CPU (ms), median of {args.repeats} repeats x {args.rounds} rounds; before = "
          f"{'plain streamlit run, ' + str(baseline_tree)} ; after = python -m app.server, {REPO}")
    print(f"{'interaction':40s} {'before':>9s} {'after':>9s} {'ratio':>7s} {'goal':>6s}")
    for name in rows["after"]:
        before = statistics.median(rows["before"].get(name, [float("nan")]))
        after = statistics.median(rows["after"][name])
        goal = GOALS_MS.get(name)
        ratio = before / after if after else float("inf")
        mark = "" if goal is None else ("ok" if after <= goal else "OVER")
        print(f"{name:40s} {before:9.1f} {after:9.1f} {ratio:6.1f}x {goal or '':>6} {mark}")
    return 0


# --- a room under load ---------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float]
    errors: list[str]
    actions: int = 0


def participant_loop(server: Server, query: str, action: str, stop: threading.Event,
                     tally: Tally, lock: threading.Lock, start_within: float) -> None:
    try:
        time.sleep(random.uniform(0, start_within))
        tab = BrowserSession(server.base, query=query)
        if not tab.open("playground" if action == "run" else "rooms", timeout=120):
            raise RuntimeError("the page did not open")
        while not stop.wait(random.uniform(25, 35)):
            if action == "run":
                took = run_code(tab, TRIVIAL)
                own = 0.0
            else:
                took = press(tab, f"check::{ROOM_EXERCISE}")
                own = 0.0
            with lock:
                tally.actions += 1
                if took is None:
                    tally.errors.append("no result within 90 s")
                else:
                    tally.latencies.append(took - own)
                if tab.state.exceptions:
                    tally.errors.extend(tab.state.exceptions)
                    tab.state.exceptions.clear()
        tab.close()
    except Exception as exc:
        with lock:
            tally.errors.append(f"{type(exc).__name__}: {exc}")


def room(args: argparse.Namespace) -> int:
    env = {"PLAYGROUND_MAX_CONCURRENT": str(args.slots), "PLAYGROUND_QUEUE_SIZE": "400",
           "PLAYGROUND_QUEUE_WAIT_S": "120"}
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp, \
            served("after", REPO, True, Path(tmp), env) as server:
        warm = BrowserSession(server.base)
        warm.open("playground")
        run_code(warm, TRIVIAL)
        warm.close()
        links = make_room(server, args.people, attempts_each=2)
        boss = BrowserSession(server.base, query=links.facilitator_query)
        boss.open("rooms")
        tally, lock, stop = Tally([], []), threading.Lock(), threading.Event()
        threads = [threading.Thread(target=participant_loop,
                                    args=(server, q, args.action, stop, tally, lock, 20.0),
                                    daemon=True) for q in links.participant_queries]
        for thread in threads:
            thread.start()
        time.sleep(25.0)  # everyone has opened the page
        cpu_before, wall_before = server.cpu(), time.monotonic()
        rss_before = server.rss_mb()
        time.sleep(args.seconds)
        cpu_used, wall = server.cpu() - cpu_before, time.monotonic() - wall_before
        stop.set()
        for thread in threads:
            thread.join(100)
        boss.close()
        lat = sorted(tally.latencies)
        def pct(q: float) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
        print(f"room: {args.people} people + 1 dashboard, action {args.action} every 25-35 s, "
              f"{args.seconds:g} s measured, runner slots {args.slots}")
        print(f"  actions {tally.actions}, results {len(lat)}, errors {len(tally.errors)}")
        for error in tally.errors[:5]:
            print(f"    error: {error[:200]}")
        print(f"  click-to-result p50 {pct(0.5):.2f} s, p95 {pct(0.95):.2f} s, "
              f"max {lat[-1] if lat else float('nan'):.2f} s")
        print(f"  server CPU {100 * cpu_used / wall:.1f}% of one core; RSS {rss_before:.0f} -> "
              f"{server.rss_mb():.0f} MB")
    return 0


# --- the generator against real Chromium ----------------------------------------------------------


def validate(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.test_app import open_app, set_code, wait_text

    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp, \
            served("after", REPO, True, Path(tmp)) as server:
        warm = BrowserSession(server.base)
        warm.open("playground")
        run_code(warm, TRIVIAL)
        warm.close()
        chromium: list[float] = []
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = []
            for _ in range(args.tabs):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                open_app(page, server.base, "playground")
                pages.append(page)
            time.sleep(2.0)
            for _ in range(args.repeats):
                for page in pages:
                    token = uuid.uuid4().hex
                    set_code(page, TRIVIAL.format(token=token))
                    before = server.cpu()
                    page.get_by_role("button", name="Run", exact=True).first.click()
                    wait_text(page, token)
                    time.sleep(1.0)
                    chromium.append((server.cpu() - before) * 1000)
            browser.close()
        protocol: list[float] = []
        tabs = [BrowserSession(server.base) for _ in range(args.tabs)]
        for tab in tabs:
            tab.open("playground")
        for _ in range(args.repeats):
            for tab in tabs:
                before = server.cpu()
                run_code(tab, TRIVIAL)
                time.sleep(0.7)
                protocol.append((server.cpu() - before) * 1000)
        for tab in tabs:
            tab.close()
    c, p = statistics.median(chromium), statistics.median(protocol)
    print(f"trivial Run, server CPU per Run (median of {len(chromium)}): Chromium {c:.1f} ms, "
          f"protocol client {p:.1f} ms, difference {100 * abs(c - p) / c:.0f}%")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("interactions")
    one.add_argument("--repeats", type=int, default=5)
    one.add_argument("--rounds", type=int, default=1)
    one.add_argument("--dashboard-people", type=int, default=100)
    one.add_argument("--idle-seconds", type=float, default=20.0)
    one.add_argument("--baseline-tree", default="")
    two = sub.add_parser("room")
    two.add_argument("--people", type=int, default=100)
    two.add_argument("--seconds", type=float, default=120.0)
    two.add_argument("--action", choices=("run", "check"), default="run")
    two.add_argument("--slots", type=int, default=2)
    three = sub.add_parser("validate")
    three.add_argument("--tabs", type=int, default=3)
    three.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    return {"interactions": interactions, "room": room, "validate": validate}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
