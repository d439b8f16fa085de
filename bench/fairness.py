"""Fair queue benchmark: what a quiet session waits while a noisy one has many runs queued.

    .venv/bin/python bench/fairness.py [--noisy 10] [--quiet 4] [--rounds 3]

One noisy session sends --noisy runs at once (each holds a running slot for 0.5 s: a sleep, so
the figure is the queue's doing, not CPU contention); 0.2 s later --quiet other sessions send one
trivial run each. Measured through a real Runner (sandbox and all), once with
PLAYGROUND_FAIR_QUEUE off (first come, first served: the baseline) and once on, alternating per
round, in the same process. Printed: the quiet runs' latency (request to result) and the time
the noisy session's last run finished, per mode, and their ratios. Asserts nothing on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOISY = "import time\ntime.sleep(0.5)\n"
QUIET = "import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"


def one_round(fair: bool, noisy: int, quiet: int, state: Path) -> tuple[list[float], float]:
    """(quiet runs' latencies, when the noisy session's last run finished), both in s."""
    from app.config import Settings
    from app.protocol import RunRequest
    from app.runner import platform as runner_platform
    from app.runner.api.runner import Runner

    config = Settings(fair_queue=fair, queue_size=noisy + quiet + 4, state_dir=str(state),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    runner.start()
    try:
        runner.run(RunRequest(code=QUIET))  # warm: the pool is ready before the clock starts
        quiet_latency: list[float] = []
        noisy_done: list[float] = []
        lock = threading.Lock()
        t0 = time.monotonic()

        def send(code: str, session: str, into: list[float], since: float) -> None:
            result = runner.run(RunRequest(code=code, session_id=session))
            if result.status != "ok":
                raise RuntimeError(f"{session}: {result.status} {result.message}")
            with lock:
                into.append(time.monotonic() - since)

        threads = [threading.Thread(target=send, args=(NOISY, "noisy", noisy_done, t0))
                   for _ in range(noisy)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        sent = time.monotonic()
        quiet_threads = [threading.Thread(target=send, args=(QUIET, f"quiet-{i}", quiet_latency,
                                                             sent)) for i in range(quiet)]
        for thread in quiet_threads:
            thread.start()
        for thread in threads + quiet_threads:
            thread.join()
        return quiet_latency, max(noisy_done)
    finally:
        runner.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noisy", type=int, default=10, help="runs the noisy session queues")
    parser.add_argument("--quiet", type=int, default=4, help="quiet sessions, one run each")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from app.config import Settings

    print(f"max_concurrent {Settings().max_concurrent}; noisy session: {args.noisy} runs of "
          f"0.5 s at once; then {args.quiet} quiet sessions: one trivial run each; "
          f"{args.rounds} rounds per mode, alternating")
    quiet: dict[bool, list[float]] = {False: [], True: []}
    noisy_end: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="fairness-bench-") as tmp:
        for round_index in range(args.rounds):
            for fair in (False, True) if round_index % 2 == 0 else (True, False):
                latencies, end = one_round(fair, args.noisy, args.quiet,
                                           Path(tmp) / f"r{round_index}-{int(fair)}")
                quiet[fair] += latencies
                noisy_end[fair].append(end)
    for fair, label in ((False, "first come, first served"), (True, "fair queue")):
        q = sorted(quiet[fair])
        print(f"{label:>25}: quiet runs p50 {statistics.median(q):.2f} s, max {q[-1]:.2f} s; "
              f"noisy session's last run done at {statistics.median(noisy_end[fair]):.2f} s")
    ratio = statistics.median(quiet[False]) / statistics.median(quiet[True])
    cost = statistics.median(noisy_end[True]) / statistics.median(noisy_end[False])
    print(f"quiet runs' p50: {ratio:.1f}x shorter with the fair queue; the noisy session's "
          f"finish: {cost:.2f}x of first come, first served")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
