"""What the insight views cost: the Transform Lab's default run with every view on, against the
same run with the views off, through the real sandboxed runner, alternated in one bench run.

The Transform Lab's default: the Playground's blank snippet, `f`, arguments `(x,)`, stack A
(grad, then jit), timings on (steady state, and without jit). "Off": no view, no pass dump, no
profile (the timings alone). "On": every view (jaxpr, StableHLO, optimised HLO with their source
maps and op lists, cost, memory, shapes, devices), XLA's pass dump and the profile. Prints the
median run time (the run itself, queue excluded) of each, and their ratio (bar: at most 1.30),
and the ratio of the minima, which a busy shared host disturbs less.

    .venv/bin/python bench/insight_overhead.py [--rounds 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.protocol import VIEW_NAMES, InspectRequest, RunRequest, TransformStep  # noqa: E402
from app.runner.runner import Runner  # noqa: E402
from app.ui.library import BLANK  # noqa: E402


def request(views_on: bool) -> RunRequest:
    # The longest time limit the runner allows: a busy shared host must not cut a round short.
    return RunRequest(BLANK.code, timeout_s=Settings().max_timeout_s, inspect=InspectRequest(
        "f", "(x,)", [TransformStep("grad"), TransformStep("jit")],
        views=list(VIEW_NAMES) if views_on else [],  # type: ignore[arg-type]
        timings=True, compare_unjitted=True, passes=views_on, profile=views_on))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()
    runner = Runner(Settings())
    runner.start()
    times: dict[bool, list[float]] = {False: [], True: []}
    try:
        for views_on in (False, True):  # warm both paths once (compilation cache, pool)
            runner.run(request(views_on))
        for round_ in range(options.rounds):
            for views_on in ((False, True) if round_ % 2 == 0 else (True, False)):
                result = runner.run(request(views_on))
                if result.status != "ok":
                    print(f"run failed: {result.status} {result.message}", file=sys.stderr)
                    return 1
                times[views_on].append(result.duration_s)
    finally:
        runner.close()
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"views off: median {off:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in times[False])})")
    print(f"views on:  median {on:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in times[True])})")
    print(f"ratio on / off: {on / off:.3f}  (bar: <= 1.30); ratio of the minima "
          f"{min(times[True]) / min(times[False]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
