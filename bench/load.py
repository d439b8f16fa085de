"""Load benchmark: many simulated sessions through the Runner the app uses, and a served app's
health endpoint polled throughout. Prints figures; asserts nothing on time.

    .venv/bin/python bench/load.py                   # 16 sessions x 25 runs, then a burst
    .venv/bin/python bench/load.py --sessions 4 --runs 5 --burst 0 --no-server   # quick look

Each session is a thread with its own session id that sends its runs one after another, with a
short think time between them (people read their output), in a shuffled mix of:
  trivial  `import jax.numpy as jnp; print(jnp.arange(3).sum())`
  compute  a jitted loop of 256x256 matmuls, about 1 s of one core
  loop     `while True: pass` with a --hostile-timeout wall limit
  bomb     a list of 64 MiB bytes objects growing until the memory limit stops it
Then a burst: --burst trivial runs sent at once from as many threads, more than the running
slots plus the queue hold, to see a full queue answer "busy" at once instead of hanging.

Printed: runs per status (none lost: every call returned; none stuck: none still running at the
deadline), latency p50/p95 of ordinary runs (trivial, compute: request to result, queue included,
and the queue part alone), time to a "busy" answer, the health endpoint's latency (max, p95) and
failures while the load ran, and processes and scratch directories left afterwards.
Runs use a private PLAYGROUND_STATE_DIR so that what is left is ours to count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRIVIAL = "import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"
COMPUTE = """import jax, jax.numpy as jnp
@jax.jit
def work(x):
    return jax.lax.fori_loop(0, 2000, lambda i, x: jnp.tanh(x @ x), x)
print(float(work(jnp.eye(256)).mean()))
"""
LOOP = "while True:\n    pass\n"
BOMB = "chunks = []\nwhile True:\n    chunks.append(b'x' * (64 << 20))\n"
MIX = {"trivial": 15, "compute": 6, "loop": 2, "bomb": 2}  # per 25 runs
CODE = {"trivial": TRIVIAL, "compute": COMPUTE, "loop": LOOP, "bomb": BOMB}
ORDINARY = ("trivial", "compute")


@dataclass
class Outcome:
    kind: str
    status: str
    latency_s: float  # request to result, as the caller sees it
    queue_s: float
    run_s: float  # the run itself (RunResult.duration_s)
    message: str


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def plan(runs: int, rng: random.Random) -> list[str]:
    total = sum(MIX.values())
    kinds = [k for k, n in MIX.items() for _ in range(round(n * runs / total))]
    kinds = (kinds + ["trivial"] * runs)[:runs]
    rng.shuffle(kinds)
    return kinds


def session(runner: object, sid: int, kinds: list[str], args: argparse.Namespace,
            tally: Tally) -> None:
    from app.protocol import RunRequest

    rng = random.Random(sid)
    for kind in kinds:
        timeout = args.hostile_timeout if kind == "loop" else None
        request = RunRequest(code=CODE[kind], timeout_s=timeout, session_id=f"load-{sid}")
        with tally.lock:
            tally.sent += 1
        started = time.monotonic()
        result = runner.run(request)  # type: ignore[attr-defined]
        tally.add(Outcome(kind, result.status, time.monotonic() - started, result.queue_s,
                          result.duration_s, result.message))
        time.sleep(rng.uniform(0.5, 1.5) * args.think)


class HealthPoller(threading.Thread):
    """Polls /_stcore/health of a served app every `every_s` seconds until stopped."""

    def __init__(self, url: str, every_s: float = 0.25, timeout_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.url, self.every_s, self.timeout_s = url, every_s, timeout_s
        self.latencies: list[float] = []
        self.failures = 0
        self.stopped = threading.Event()

    def probe(self) -> float | None:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return time.monotonic() - started
        except OSError:
            pass
        return None

    def run(self) -> None:
        while not self.stopped.is_set():
            took = self.probe()
            if took is None:
                self.failures += 1
            else:
                self.latencies.append(took)
            self.stopped.wait(self.every_s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, state_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PORT": str(port), "ADDRESS": "127.0.0.1", "PYTHON": sys.executable,
           "PLAYGROUND_STATE_DIR": str(state_dir / "served")}
    return subprocess.Popen([str(REPO / "scripts" / "serve.sh")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=wait_s)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def leftovers(state_dir: Path, since: float) -> tuple[list[str], list[str]]:
    """Processes started by this benchmark still alive, and scratch dirs still on disk."""
    import psutil

    me = psutil.Process()
    procs = []
    for proc in psutil.process_iter(["pid", "create_time", "cmdline", "cwd"]):
        info = proc.info
        if proc.pid == me.pid or (info["create_time"] or 0) < since - 1:
            continue
        marks = " ".join(info["cmdline"] or []) + " " + (info["cwd"] or "")
        # the supervisor inherits our environment; sandboxed runs have their cwd in the state dir
        with contextlib.suppress(psutil.Error):
            marks += " " + proc.environ().get("PLAYGROUND_STATE_DIR", "")
        if str(state_dir) in marks:
            procs.append(f"{proc.pid} {' '.join(info['cmdline'] or [])[:80]}")
    procs += [f"{c.pid} {' '.join(c.cmdline())[:80]} (child)" for c in me.children(True)]
    scratch = [str(p) for p in state_dir.rglob("run-*")]
    return procs, scratch


def report(title: str, outcomes: list[Outcome], sent: int, unfinished: int) -> None:
    counts = Counter(o.status for o in outcomes)
    print(f"\n{title}: {sent} sent, {len(outcomes)} ended with a status, "
          f"{sent - len(outcomes) - unfinished} lost, {unfinished} stuck at the deadline")
    print("  statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(counts.items())))
    by_kind: dict[str, Counter[str]] = {}
    for o in outcomes:
        by_kind.setdefault(o.kind, Counter())[o.status] += 1
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:8s} " + ", ".join(f"{s}={n}" for s, n in sorted(c.items())))


def latency_lines(outcomes: list[Outcome]) -> None:
    for label, kinds in (("trivial", ("trivial",)), ("compute", ("compute",)),
                         ("ordinary", ORDINARY)):
        done = [o for o in outcomes if o.kind in kinds and o.status not in ("busy", "rejected")]
        lat = [o.latency_s for o in done]
        queue = [o.queue_s for o in done]
        run = [o.run_s for o in done]
        print(f"  {label:8s} n={len(lat):3d}  latency p50 {percentile(lat, 50):6.2f} s  "
              f"p95 {percentile(lat, 95):6.2f} s  max {max(lat, default=float('nan')):6.2f} s"
              f"  | queue p50 {percentile(queue, 50):5.2f} p95 {percentile(queue, 95):5.2f}"
              f"  | run p50 {percentile(run, 50):5.2f} p95 {percentile(run, 95):5.2f}")


def burst(runner: object, n: int) -> tuple[list[Outcome], int]:
    from app.protocol import RunRequest

    tally = Tally()
    gate = threading.Barrier(n)

    def one(i: int) -> None:
        gate.wait()
        started = time.monotonic()
        result = runner.run(RunRequest(code=TRIVIAL, session_id=f"burst-{i}"))  # type: ignore[attr-defined]
        tally.add(Outcome("trivial", result.status, time.monotonic() - started, result.queue_s,
                          result.duration_s, result.message))

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return tally.outcomes, sum(t.is_alive() for t in threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--runs", type=int, default=25, help="runs per session")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between runs, s")
    parser.add_argument("--hostile-timeout", type=float, default=2.0, help="wall limit of loops")
    parser.add_argument("--burst", type=int, default=48, help="runs sent at once afterwards")
    parser.add_argument("--deadline", type=float, default=900.0, help="give up after, s")
    parser.add_argument("--no-server", action="store_true", help="do not serve the app")
    args = parser.parse_args(argv)

    state_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ["PLAYGROUND_STATE_DIR"] = str(state_dir)
    from app.config import settings
    from app.runner.factory import get_runner

    config = settings()
    since = time.time()
    print(f"cores {len(os.sched_getaffinity(0))}, max_concurrent {config.max_concurrent}, "
          f"queue_size {config.queue_size}, queue_wait_s {config.queue_wait_s}, "
          f"rate/min {config.effective_rate_per_minute or 'unlimited'}, "
          f"{args.sessions} sessions x {args.runs} runs, think ~{args.think} s")

    server = poller = None
    if not args.no_server:
        port = free_port()
        server = start_server(port, state_dir)
        poller = HealthPoller(f"http://127.0.0.1:{port}/_stcore/health")
        deadline = time.monotonic() + 60
        while poller.probe() is None and time.monotonic() < deadline:
            time.sleep(0.25)
        poller.start()

    runner = get_runner()
    started = time.monotonic()
    runner.start()
    print(f"runner ready in {time.monotonic() - started:.1f} s")

    tally = Tally()
    rng = random.Random(0)
    threads = [threading.Thread(target=session, args=(runner, i, plan(args.runs, rng), args,
                                                      tally), daemon=True)
               for i in range(args.sessions)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, started + args.deadline - time.monotonic()))
    wall = time.monotonic() - started
    stuck = sum(t.is_alive() for t in threads)
    report(f"sessions ({wall:.0f} s wall)", tally.outcomes, tally.sent, stuck)
    latency_lines(tally.outcomes)
    all_ok = len(tally.outcomes) == args.sessions * args.runs

    if args.burst:
        outcomes, burst_stuck = burst(runner, args.burst)
        report(f"burst of {args.burst}", outcomes, args.burst, burst_stuck)
        busy = [o.latency_s for o in outcomes if o.status == "busy"]
        if busy:
            print(f"  busy answered in p50 {percentile(busy, 50) * 1000:.0f} ms, "
                  f"max {max(busy) * 1000:.0f} ms")
        all_ok = all_ok and len(outcomes) == args.burst

    if poller is not None:
        poller.stopped.set()
        poller.join()
        lat = poller.latencies
        print(f"\nhealth /_stcore/health: {len(lat)} answers, {poller.failures} failures, "
              f"p95 {percentile(lat, 95) * 1000:.0f} ms, max {max(lat, default=0) * 1000:.0f} ms")
    runner.close()
    if server is not None:
        stop_server(server)
    time.sleep(1.0)
    procs, scratch = leftovers(state_dir, since)
    print(f"left afterwards: {len(procs)} processes, {len(scratch)} scratch dirs")
    for line in procs + scratch:
        print(f"  {line}")
    shutil.rmtree(state_dir, ignore_errors=True)
    return 0 if all_ok and not procs and not scratch else 1


if __name__ == "__main__":
    sys.exit(main())
