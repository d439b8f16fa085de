"""Rooms under load: simulated participants join a room and submit checked attempts through the
same functions the pages use (learners.join_room, attempts.submit_attempt: the real sandboxed
Runner, then the store), while a facilitator polls the dashboard query. Prints figures; asserts
nothing on time.

    .venv/bin/python bench/rooms_load.py                       # 50 participants, 2 attempts each
    .venv/bin/python bench/rooms_load.py --participants 10 --attempts 1 --window 20   # quick
    .venv/bin/python bench/rooms_load.py --private-postgres    # a private PostgreSQL, as in tests
    .venv/bin/python bench/rooms_load.py --database-url postgresql+psycopg://...   # your server

Each participant is a thread: it joins at a random moment of the first few seconds, then
submits --attempts attempts at random moments spread over --window seconds (the first one often
the starter, which fails; the last one the solution, which passes), pressing Check again after a
"busy" answer as a person would. One attempt in ten is also recorded a second time with the same
key, as a double click or a retried write would. Printed: attempts submitted and recorded (every
checked submission exactly once: rows = submissions, keys unique), runs answered busy, the check
runs' latency, and the dashboard query's p50 / p95 / max under that load.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from app.config import Settings
from app.exercises import load_exercises
from app.rooms import learners, rooms
from app.rooms.attempts import NOT_ATTEMPTED, new_attempt_key, submit_attempt
from app.rooms.catalogue import Item, catalogue
from app.rooms.dashboard import dashboard
from app.rooms.learners import record_attempt
from app.rooms.schema import attempts
from app.rooms.store import Store
from app.runner.api.runner import Runner

EXERCISES = ("sharp-bits/jit-nansum", "pytrees/count-parameters",
             "jax-vs-numpy/functional-update", "gotchas-quick-reference/list-inputs")


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted: int = 0  # checked submissions (a result that reached the check)
    busy: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    passed: int = 0
    run_s: list[float] = field(default_factory=list)
    repeats: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def participant(index: int, args: argparse.Namespace, store: Store, settings: Settings,
                runner: Runner, room_code: str, start: float, tally: Tally) -> None:
    rng = random.Random(index)
    time.sleep(rng.uniform(0, 3))
    token = learners.join_room(store, settings, room_code, f"Participant {index}")
    who = learners.learner(store, token)
    moments = sorted(rng.uniform(3, args.window) for _ in range(args.attempts))
    exercises = load_exercises()
    for number, moment in enumerate(moments):
        time.sleep(max(0.0, start + moment - time.monotonic()))
        exercise = exercises.by_id(rng.choice(EXERCISES))
        assert exercise is not None
        last = number == len(moments) - 1
        code = exercise.solution if last or rng.random() < 0.3 else exercise.starter
        while True:
            key = new_attempt_key()
            began = time.monotonic()
            result = submit_attempt(store, settings, runner, who, exercise, code, key,
                                    session_id=f"participant-{index}")
            if result.status not in NOT_ATTEMPTED:
                break
            with tally.lock:
                tally.busy += 1
            time.sleep(rng.uniform(1, 3))  # "busy": press Check again a moment later
        with tally.lock:
            tally.submitted += 1
            tally.statuses[result.status] += 1
            tally.passed += bool(result.check and result.check.passed)
            tally.run_s.append(time.monotonic() - began)
        if rng.random() < 0.1:  # a double click / retried write of the same attempt
            again = record_attempt(store, settings, who, exercise.id, key, code, result)
            with tally.lock:
                tally.repeats += 1
            assert not again, "a repeated attempt key was recorded twice"


def facilitator(store: Store, room: rooms.Room, stop: threading.Event, times: list[float],
                interval_s: float) -> None:
    while not stop.is_set():
        began = time.perf_counter()
        dashboard(store, room)
        times.append(time.perf_counter() - began)
        stop.wait(interval_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=2, help="checked attempts each")
    parser.add_argument("--window", type=float, default=55.0, help="seconds the attempts span")
    parser.add_argument("--poll", type=float, default=0.5, help="dashboard polling interval, s")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--private-postgres", action="store_true",
                        help="start a private PostgreSQL server (tests/rooms/postgres.py)")
    args = parser.parse_args()
    if args.private_postgres:
        from tests.rooms.postgres import postgres_server

        with postgres_server() as url:
            args.database_url = url
            return load(args)
    return load(args)


def load(args: argparse.Namespace) -> int:

    scratch = Path(tempfile.mkdtemp(prefix="rooms-load-"))
    url = args.database_url or f"sqlite:///{scratch / 'data' / 'playground.db'}"
    settings = Settings(state_dir=str(scratch / "state"), data_dir=str(scratch / "data"),
                        database_url=url, room_max_participants=max(300, args.participants))
    store = Store(url)
    runner = Runner(settings)
    runner.start()
    room = rooms.create_room(
        store, settings, catalogue(), name="Load", items=[Item("exercise", e) for e in EXERCISES],
        ends_at=None, client_id="bench").room
    tally, dashboard_s, stop = Tally(), [], threading.Event()
    print(f"{args.participants} participants x {args.attempts} attempts over {args.window:g} s; "
          f"database {store.dialect}; runner max_concurrent {settings.max_concurrent}",
          flush=True)
    start = time.monotonic()
    watcher = threading.Thread(target=facilitator,
                               args=(store, room, stop, dashboard_s, args.poll))
    watcher.start()
    people = [threading.Thread(target=participant, args=(i, args, store, settings, runner,
                                                         room.code, start, tally))
              for i in range(args.participants)]
    for t in people:
        t.start()
    for t in people:
        t.join()
    elapsed = time.monotonic() - start
    stop.set()
    watcher.join()
    runner.close()

    with store.read() as conn:
        rows = conn.execute(select(func.count()).select_from(attempts)).scalar_one()
        keys = conn.execute(select(func.count(func.distinct(attempts.c.attempt_key)))).scalar_one()
    final = dashboard(store, room)
    store.close()
    grid_attempts = sum(c.attempts for r in final.rows for c in r.cells.values())
    print(f"wall time {elapsed:.1f} s; participants on the dashboard {len(final.rows)}")
    print(f"attempts: submitted and checked {tally.submitted}, rows {rows}, distinct keys {keys}, "
          f"on the dashboard {grid_attempts}; repeats of a key recorded again: 0 of "
          f"{tally.repeats}; answered busy (pressed again) {tally.busy}")
    print(f"exactly once: {'yes' if rows == keys == tally.submitted == grid_attempts else 'NO'}")
    print(f"run statuses {dict(tally.statuses)}; passed {tally.passed}")
    if tally.run_s:
        print(f"check run, request to result: p50 {statistics.median(tally.run_s):.2f} s, "
              f"p95 {percentile(tally.run_s, 0.95):.2f} s, max {max(tally.run_s):.2f} s")
    if dashboard_s:
        ms = [t * 1000 for t in dashboard_s]
        print(f"dashboard query ({len(ms)} polls): p50 {statistics.median(ms):.1f} ms, "
              f"p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms")
    return 0 if rows == keys == tally.submitted else 1


if __name__ == "__main__":
    sys.exit(main())
