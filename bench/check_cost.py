"""A Check's runner CPU per exercise, and a trivial run's latency, for this checkout and a
baseline checkout, measured alternately in one invocation (the box may be shared: compare the
two columns of one invocation only).

    .venv/bin/python bench/check_cost.py [--base-ref main | --base PATH] [--rounds 2]

Each round starts one real Runner per checkout (in its own process, with that checkout's code)
and, with the pool idle before and after each run, measures:
- for every shipped exercise, the CPU of the runner's whole process tree (supervisor, zygote,
  children, reaped children included) for one run of the solution with its check; this includes
  preparing the preforked child that replaces the one used, so a trivial run's CPU measured the
  same way is reported too, and the difference ("net") is what the check itself costs;
- a trivial run's latency (request -> result), p50 over --trivial runs.
It prints the median over the exercises of each, per checkout, and per exercise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRIVIAL = "import jax.numpy as jnp; print(jnp.arange(3).sum())"


def _interpreter() -> str:
    """The venv's python by its real path: a run's sandbox hides the checkout, so a venv reached
    through a link inside it could not import what JAX loads lazily."""
    return str(Path(sys.prefix).resolve() / "bin" / "python")


# --- one checkout, in its own process ------------------------------------------------------------


def _tree_cpu(supervisor_pid: int) -> float:
    """CPU seconds of the runner's process tree, reaped descendants included."""
    import psutil

    root = psutil.Process(supervisor_pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def measure(trivial_runs: int) -> dict[str, Any]:
    from app.config import settings as load_settings
    from app.exercises import load_exercises
    from app.protocol import RunRequest
    try:
        from app.bench.measure import wait_idle
        from app.runner.api.runner import Runner
    except ImportError:  # a checkout from before the runner's packages
        from app.runner.bench import wait_idle  # type: ignore[no-redef]
        from app.runner.runner import Runner  # type: ignore[no-redef]

    runner = Runner(load_settings())
    runner.start()
    try:
        info = wait_idle(runner, timeout=120.0)
        pid = int(info["supervisor_pid"])
        for _ in range(3):  # first runs after start-up: page cache, pool fill
            runner.run(RunRequest(code=TRIVIAL))
        timeout = runner.settings.max_timeout_s

        def cost(request: Any) -> tuple[float, float, Any]:
            wait_idle(runner, timeout=60.0)
            before, start = _tree_cpu(pid), time.perf_counter()
            result = runner.run(request)
            latency = time.perf_counter() - start
            wait_idle(runner, timeout=60.0)
            return _tree_cpu(pid) - before, latency, result

        trivial_cpu, trivial_latency = [], []
        for _ in range(trivial_runs):
            cpu, latency, result = cost(RunRequest(code=TRIVIAL))
            if result.stdout != "3\n":
                raise RuntimeError(f"trivial run failed: {result.status} {result.message}")
            trivial_cpu.append(cpu)
            trivial_latency.append(latency)
        checks: dict[str, float | None] = {}
        for exercise in load_exercises().exercises:
            cpu, _latency, result = cost(exercise.request(exercise.solution, timeout))
            if result.check is None or not result.check.passed:  # e.g. timed out on a busy box
                print(f"{exercise.id}: the solution did not pass: {result.message}",
                      file=sys.stderr)
                checks[exercise.id] = None
                continue
            checks[exercise.id] = cpu
        return {"trivial_cpu": trivial_cpu, "trivial_latency": trivial_latency, "checks": checks}
    finally:
        runner.close()


# --- the driver ----------------------------------------------------------------------------------


def _run_in(checkout: Path, trivial_runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [_interpreter(), str(Path(__file__).resolve()), "--measure", "--trivial",
         str(trivial_runs)],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {checkout} failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():
        if "did not pass" in line:
            print(f"{checkout.name}: {line}", file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cpu_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def report(label: str, runs: list[dict[str, Any]], exercises: list[str]) -> dict[str, float]:
    trivial_cpu = [c for r in runs for c in r["trivial_cpu"]]
    trivial_latency = [t for r in runs for t in r["trivial_latency"]]
    per_exercise = {eid: statistics.median(r["checks"][eid] for r in runs
                                           if r["checks"].get(eid) is not None)
                    for eid in exercises}
    trivial = statistics.median(trivial_cpu)
    figures = {
        "check_cpu_ms": _cpu_ms(list(per_exercise.values())),
        "check_net_cpu_ms": _cpu_ms([v - trivial for v in per_exercise.values()]),
        "trivial_cpu_ms": trivial * 1000,
        "trivial_p50_ms": statistics.median(trivial_latency) * 1000,
    }
    print(f"{label}: Check runner CPU median {figures['check_cpu_ms']:.0f} ms "
          f"(net of a trivial run's {figures['trivial_cpu_ms']:.0f} ms: "
          f"{figures['check_net_cpu_ms']:.0f} ms) over {len(per_exercise)} solutions; "
          f"trivial run p50 {figures['trivial_p50_ms']:.0f} ms over {len(trivial_latency)}")
    return {**figures, **{f"exercise:{k}": v * 1000 for k, v in per_exercise.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="a checkout of the baseline's code")
    parser.add_argument("--base-ref", default="main", help="or a git ref to check out for it")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--trivial", type=int, default=15)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.trivial)))
        return 0
    made = None
    base = args.base
    if base is None:  # a worktree beside this checkout (a run's sandbox hides /tmp's content)
        made = Path(tempfile.mkdtemp(prefix="bench-base-", dir=REPO.parent))
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(made),
                        args.base_ref], check=True, capture_output=True)
        base = made
    try:
        results: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for round_ in range(args.rounds):
            order = [("before", base), ("after", REPO)]
            for label, checkout in order if round_ % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                results[label].append(_run_in(checkout, args.trivial))
                print(f"round {round_ + 1} {label}: {time.perf_counter() - start:.0f} s",
                      file=sys.stderr)
        # Exercises measured at least once on both sides (a run that timed out is left out).
        exercises = [e for e in results["after"][0]["checks"]
                     if any(r["checks"].get(e) is not None for r in results["before"])
                     and any(r["checks"].get(e) is not None for r in results["after"])]
        before = report(f"before ({args.base_ref if made else base})", results["before"],
                        exercises)
        after = report("after (this checkout)", results["after"], exercises)
        print("per exercise, runner CPU ms (before -> after):")
        for key in sorted(k for k in before if k.startswith("exercise:")):
            print(f"  {key[9:]:50s} {before[key]:6.0f} -> {after[key]:6.0f}")
    finally:
        if made is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(made)],
                           check=False, capture_output=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} cores, load average {load} (a shared box skews both columns; "
          "compare them within one invocation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
