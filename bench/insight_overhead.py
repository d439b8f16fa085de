"""What the insight views cost: the Transform Lab's default run with every view on, against the
same run with the views off, through the real sandboxed runner, alternated in one bench run.

The Transform Lab's default: the Playground's blank snippet, `f`, arguments `(x,)`, stack A
(grad, then jit), timings on (steady state, and without jit). "Off": no view, no pass dump, no
profile (the timings alone). "On": every view (jaxpr, StableHLO, optimised HLO with their source
maps and op lists, cost, memory, shapes, devices), XLA's pass dump and the profile. Prints the
median run time (the run itself, queue excluded) of each, and their ratio (bar: at most 1.30),
and the ratio of the minima, which a busy shared host disturbs less.

--plain runs the worker in this process instead (no sandbox). A run's wall time is dominated by
its timed steady state, whose length moves with a shared host's load, so --plain also measures
the views without timings (off and on) and prints their difference as a share of the default
run's time.

    .venv/bin/python bench/insight_overhead.py [--rounds 6] [--plain]
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
from app.runner.api.runner import Runner  # noqa: E402
from app.ui.library import BLANK  # noqa: E402


def request(views_on: bool) -> RunRequest:
    # The longest time limit the runner allows: a busy shared host must not cut a round short.
    return RunRequest(BLANK.code, timeout_s=Settings().max_timeout_s, inspect=InspectRequest(
        "f", "(x,)", [TransformStep("grad"), TransformStep("jit")],
        views=list(VIEW_NAMES) if views_on else [],  # type: ignore[arg-type]
        timings=True, compare_unjitted=True, passes=views_on, profile=views_on))


def _report(label: str, values: dict[bool, list[float]]) -> None:
    off, on = statistics.median(values[False]), statistics.median(values[True])
    for name, key in (("views off", False), ("views on ", True)):
        runs = ", ".join(f"{t:.2f}" for t in values[key])
        print(f"{label} {name}: median {statistics.median(values[key]):.3f} s  (runs: {runs})")
    print(f"{label} ratio on / off: {on / off:.3f}  (bar: <= 1.30); ratio of the minima "
          f"{min(values[True]) / min(values[False]):.3f}")


def plain(rounds: int) -> int:
    """The worker in this process. The timed steady state (two 1 s budgets) dominates a run and
    its length moves with the host's load, so the views' cost is also measured without it:
    the same run with timings off, views off and on; their difference over the default run's
    time is the overhead, all alternated in this one bench run."""
    import time
    from dataclasses import replace

    from app.worker.execute import execute

    def untimed(views_on: bool) -> RunRequest:
        base = request(views_on)
        return replace(base, inspect=replace(base.inspect, timings=False,
                                             compare_unjitted=False))

    variants = {"default run (views off)": request(False), "untimed, views off": untimed(False),
                "untimed, views on": untimed(True), "default run, views on": request(True)}
    wall: dict[str, list[float]] = {name: [] for name in variants}
    for each in variants.values():
        execute(each)  # warm: imports, first compilations
    for round_ in range(rounds):
        order = list(variants.items())
        for name, each in order if round_ % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            report, _ = execute(each)
            wall[name].append(time.perf_counter() - start)
            if report.error or (report.inspect and report.inspect.error):
                print("run failed", report.error or report.inspect.error, file=sys.stderr)
                return 1
    medians = {name: statistics.median(times) for name, times in wall.items()}
    for name, times in wall.items():
        print(f"{name:26s} median {medians[name]:.3f} s  min {min(times):.3f} s")
    added = medians["untimed, views on"] - medians["untimed, views off"]
    base = medians["default run (views off)"]
    print(f"the views add {added:.3f} s to the default run's {base:.3f} s: "
          f"{100 * added / base:.1f}% (bar: 30%)")
    print(f"default run, views on / off: {medians['default run, views on'] / base:.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--plain", action="store_true")
    options = parser.parse_args()
    if options.plain:
        return plain(options.rounds)
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
    _report("sandboxed", times)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
