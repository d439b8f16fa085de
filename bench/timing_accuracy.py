"""Is the worker's steady-state time honest? Compare it with a plain `timeit` of the same call.

For a ~10 ms jitted workload, measured in the same bench run:
  - the worker: execute() with an inspect request (timings on), in a fresh plain process, or
    through the real sandboxed runner with --sandbox;
  - the reference: a separate plain `python -c` process that jits the same function on the same
    inputs and times `f(*args).block_until_ready()` with timeit (autorange, then repeats).
Both are run alternately `--rounds` times, so drift on a shared machine hits both. Prints the
medians and the ratio worker / timeit (target: within 20%, i.e. 0.8-1.2), and the ratio of the
minima, which a busy shared machine disturbs less than the medians.

    .venv/bin/python bench/timing_accuracy.py [--rounds 5] [--size 1000] [--sandbox]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKAROUND = "--xla_cpu_experimental_ynn_fusion_type="
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

WORKLOAD = textwrap.dedent("""\
    import jax
    import jax.numpy as jnp

    def layer(w, x):
        return jnp.tanh(x @ w) @ w.T

    w = jax.random.normal(jax.random.key(0), ({size}, {size}), jnp.float32)
    x = jax.random.normal(jax.random.key(1), ({size}, {size}), jnp.float32)
""")

REFERENCE = textwrap.dedent("""\
    import json, statistics, timeit
    {workload}
    f = jax.jit(layer)
    f(w, x).block_until_ready()
    timer = timeit.Timer(lambda: f(w, x).block_until_ready())
    number, _ = timer.autorange()
    runs = [t / number for t in timer.repeat(repeat=15, number=number)]
    print(json.dumps({{"median_s": statistics.median(runs), "min_s": min(runs),
                      "number": number, "repeats": len(runs)}}))
""")

WORKER = textwrap.dedent("""\
    import json, sys
    from app import protocol
    from app.worker.execute import execute
    request = protocol.from_json(protocol.RunRequest, sys.stdin.read())
    report, _ = execute(request)
    sys.stdout.flush()
    print("\\n" + protocol.to_json(report))
""")


@functools.cache
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    # The runner's flag for its workers on jax 0.10 (CPU compiler bug: docs/architecture.md); same
    # for both sides. Other versions may not know it, and XLA aborts on an unknown flag.
    flags = env.get("XLA_FLAGS", "")
    if WORKAROUND not in flags and _accepts(WORKAROUND, env):
        env["XLA_FLAGS"] = f"{flags} {WORKAROUND}".strip()
    return env


def _accepts(flag: str, env: dict[str, str]) -> bool:
    if version("jaxlib").startswith("0.10."):
        return True
    probe = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"
    done = subprocess.run([sys.executable, "-c", probe], env={**env, "XLA_FLAGS": flag},
                          capture_output=True, timeout=120, check=False)
    return done.returncode == 0


def _request(size: int):  # -> RunRequest; imported lazily so --help is fast
    from app.protocol import InspectRequest, RunRequest, TransformStep

    return RunRequest(
        code=WORKLOAD.format(size=size),
        timeout_s=60,
        inspect=InspectRequest("layer", "(w, x)", [TransformStep("jit")], timings=True),
    )


def reference_timeit(size: int) -> dict[str, float]:
    code = REFERENCE.format(workload=WORKLOAD.format(size=size))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_in_plain_process(size: int) -> dict[str, float]:
    from app.protocol import to_json

    done = subprocess.run([sys.executable, "-c", WORKER], input=to_json(_request(size)),
                          capture_output=True, text=True, env=_env(), check=True, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return _steady(report["inspect"])


def worker_in_sandbox(size: int) -> dict[str, float]:
    from app.protocol import to_dict
    from app.runner.factory import get_runner

    result = get_runner().run(_request(size))
    if not result.ok or result.inspect is None:
        raise SystemExit(f"sandboxed run failed: {result.status} {result.message} {result.error}")
    return _steady(to_dict(result.inspect))


def _steady(inspect: dict) -> dict[str, float]:
    if inspect.get("error"):
        raise SystemExit(f"inspect failed: {inspect['error']}")
    steady = inspect["timings"]["steady"]
    return {"median_s": steady["median_s"], "min_s": steady["min_s"],
            "number": steady["calls_per_sample"], "repeats": steady["count"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of both")
    parser.add_argument("--size", type=int, default=1000,
                        help="matrix size (1000: ~10 ms on 2 idle cores)")
    parser.add_argument("--sandbox", action="store_true",
                        help="run the worker through the sandboxed runner, not a plain process")
    args = parser.parse_args(argv)
    worker = worker_in_sandbox if args.sandbox else worker_in_plain_process
    where = "sandboxed runner" if args.sandbox else "plain process"

    rows = []
    for round_number in range(1, args.rounds + 1):
        ours = worker(args.size)
        theirs = reference_timeit(args.size)
        ratio = ours["median_s"] / theirs["median_s"]
        rows.append((ours, theirs, ratio))
        print(f"round {round_number}: worker ({where}) median {ours['median_s'] * 1e3:7.3f} ms "
              f"[{ours['repeats']} samples x {ours['number']}]   timeit median "
              f"{theirs['median_s'] * 1e3:7.3f} ms [{theirs['repeats']} x {theirs['number']}]"
              f"   ratio {ratio:.3f}", flush=True)
    worker_median = statistics.median(r[0]["median_s"] for r in rows)
    timeit_median = statistics.median(r[1]["median_s"] for r in rows)
    ratio = worker_median / timeit_median
    min_ratio = min(r[0]["min_s"] for r in rows) / min(r[1]["min_s"] for r in rows)
    verdict = "within" if abs(ratio - 1) <= 0.2 else "OUTSIDE"
    print(f"\njit(layer) on {args.size}x{args.size} f32, {args.rounds} rounds: worker median "
          f"{worker_median * 1e3:.3f} ms, timeit median {timeit_median * 1e3:.3f} ms, ratio "
          f"{ratio:.3f} ({verdict} the 20% bar); ratio of the minima {min_ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
