"""Stop and live output through a real Runner: how fast a stopped run ends, how soon its first
line arrives, how many messages an output flood costs.

    .venv/bin/python bench/control.py [--runs 10]

Per run: a `while True` loop that prints one line first; the time from submitting it to its first
streamed line, then from runner.cancel() to its "cancelled" result. Then one flood printing until
the output cap (1 MiB by default): the number of streamed chunks it took. Printed: median and max
of each; asserts nothing on time (the bound is 1 s from Stop to the end of the run;
tests/runner/api/test_control.py checks that a stop ends the run "cancelled").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LOOP = "print('looping', flush=True)\nwhile True:\n    pass\n"
FLOOD = "i = 0\nwhile True:\n    print(i)\n    i += 1\n"


def stop_once(runner, session: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(submit -> first streamed line, cancel -> result), in s."""
    from app.protocol import RunRequest

    request = RunRequest(code=LOOP, run_id=uuid.uuid4().hex, session_id=session)
    first_line = threading.Event()
    box: dict[str, float] = {}

    def go() -> None:
        result = runner.run(request, lambda kind, _: first_line.set() if kind == "output" else None)
        box["ended"] = time.monotonic()
        if result.status != "cancelled":
            raise RuntimeError(f"{result.status}: {result.message}")

    sent = time.monotonic()
    thread = threading.Thread(target=go)
    thread.start()
    if not first_line.wait(60):
        raise RuntimeError("no output came")
    first = time.monotonic() - sent
    asked = time.monotonic()
    if not runner.cancel(request.run_id, session):
        raise RuntimeError("the run was not found")
    thread.join(30)
    return first, box["ended"] - asked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from app.config import Settings
    from app.protocol import RunRequest
    from app.runner import platform as runner_platform
    from app.runner.api.runner import Runner

    with tempfile.TemporaryDirectory() as state:
        runner = Runner(Settings(state_dir=state, compile_cache_dir=str(
            runner_platform.compile_cache_dir(Settings()))))
        runner.start()
        try:
            runner.run(RunRequest(code="print(1)"))  # the pool is ready before the clock starts
            firsts, stops = zip(*(stop_once(runner, "bench") for _ in range(args.runs)),
                                strict=True)
            chunks: list[object] = []

            def keep(kind: str, chunk: object) -> None:
                if kind == "output":
                    chunks.append(chunk)

            flood = runner.run(RunRequest(code=FLOOD), keep)
        finally:
            runner.close()
    print(f"runs: {args.runs} `while True` loops, stopped once they printed")
    print(f"submit -> first streamed line  median {statistics.median(firsts) * 1000:6.0f} ms"
          f"   max {max(firsts) * 1000:6.0f} ms")
    print(f"cancel -> cancelled result     median {statistics.median(stops) * 1000:6.0f} ms"
          f"   max {max(stops) * 1000:6.0f} ms")
    print(f"flood: {flood.status}, {len(flood.stdout.encode()) / (1 << 20):.2f} MiB printed, "
          f"{flood.stdout.count(chr(10))} lines, {len(chunks)} streamed chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
