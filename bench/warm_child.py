"""Does the waiting child's first tiny computation (PLAYGROUND_WARM_CHILD) make runs faster?

Two runners side by side, one with it and one without, the same trivial run sent to each in turn,
1 s apart (each run finds a ready child), so both see the same load on a shared machine. Prints
request -> result p50, the run's first operation p50 (timed inside the run: `import jax.numpy`,
then `jnp.arange(3).sum()`), and each pool's preparation phases.

    .venv/bin/python bench/warm_child.py [--pairs 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import settings as load_settings
from app.protocol import RunRequest
from app.runner import platform
from app.runner.api.runner import Runner

CODE = ("import time\nt = time.perf_counter()\nimport jax.numpy as jnp\n"
        "print(jnp.arange(3).sum())\nprint(round((time.perf_counter() - t) * 1000, 1))\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    args = parser.parse_args()
    base = load_settings()
    state = platform.state_dir(base)
    runners = {}
    for name, warm in (("without", False), ("with", True)):
        runners[name] = Runner(dataclasses.replace(
            base, warm_child=warm, state_dir=str(state / f"warm-child-{name}"),
            compile_cache_dir=str(platform.compile_cache_dir(base))))
    latency: dict[str, list[float]] = {name: [] for name in runners}
    first_op: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for runner in runners.values():
            runner.start()
            runner.run(RunRequest(code="print(1)"))
        for _ in range(args.pairs):
            for name, runner in runners.items():
                time.sleep(1.0)
                start = time.perf_counter()
                result = runner.run(RunRequest(code=CODE))
                latency[name].append((time.perf_counter() - start) * 1000)
                first_op[name].append(float(result.stdout.split()[-1]))
        for name, runner in runners.items():
            phases = runner.status().get("child_prepare_phases_ms_p50")
            print(f"{name} the warm-up computation: request -> result p50 "
                  f"{statistics.median(latency[name]):.0f} ms, the run's first op p50 "
                  f"{statistics.median(first_op[name]):.0f} ms; preparation (ms, p50) {phases}")
    finally:
        for runner in runners.values():
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
