"""What a session's compilation-cache layer saves: a rerun of the same code in one session against
the same rerun without a session (no layer: it compiles again), in one bench run.

Each round uses a new session and code no other round compiled (a fresh constant), runs it twice
in that session and twice without one, and takes the run's own duration (RunResult.duration_s,
queue and transport excluded). Prints the medians over the rounds and their ratio.

    .venv/bin/python bench/session_cache.py [--rounds 8] [--workload mlp|matmul]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import settings as load_settings
from app.protocol import RunRequest
from app.runner.api.runner import Runner

# An 8-layer MLP's jitted value_and_grad and one SGD step: the kind of snippet people rerun.
MLP = """
import jax, jax.numpy as jnp
sizes = [64] * 9
keys = jax.random.split(jax.random.key(0), 8)
params = [(jax.random.normal(k, (a, b)) / a ** 0.5, jnp.zeros(b))
          for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
def loss(params, x):
    for w, b in params:
        x = jnp.tanh(x @ w + b)
    return jnp.mean((x - {k}) ** 2)
step = jax.jit(jax.value_and_grad(loss))
value, grads = step(params, jnp.ones((32, 64)))
print(float(value))
"""
MATMUL = "import jax.numpy as jnp\nx = jnp.ones((1024, 1024)) * {k}\nprint(float((x @ x)[0, 0]))\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workload", choices=("mlp", "matmul"), default="mlp")
    args = parser.parse_args()
    template = MLP if args.workload == "mlp" else MATMUL
    runner = Runner(load_settings())
    first, again, plain = [], [], []
    try:
        runner.start()
        for _ in range(args.rounds):
            code = template.format(k=uuid.uuid4().int % 1000 + 2)
            session = uuid.uuid4().hex
            runs = [runner.run(RunRequest(code=code, session_id=session, timeout_s=30))
                    for _ in range(2)]
            bare = [runner.run(RunRequest(code=code, timeout_s=30)) for _ in range(2)]
            failed = [(r.status, r.message) for r in runs + bare if r.status != "ok"]
            if failed:
                raise RuntimeError(f"a bench run failed: {failed}")
            first.append(runs[0].duration_s)
            again.append(runs[1].duration_s)
            plain.append(bare[1].duration_s)
            print(f"first {runs[0].duration_s * 1000:.0f} ms, rerun in the session "
                  f"{runs[1].duration_s * 1000:.0f} ms {runs[1].compile_cache}, rerun without "
                  f"a session {bare[1].duration_s * 1000:.0f} ms", flush=True)
    finally:
        runner.close()
    p50 = {name: statistics.median(values) for name, values in
           (("first", first), ("session rerun", again), ("plain rerun", plain))}
    print(", ".join(f"{name} p50 {value * 1000:.0f} ms" for name, value in p50.items()))
    print(f"rerun without a layer / rerun from the session's layer: "
          f"{p50['plain rerun'] / p50['session rerun']:.2f}x over {args.rounds} rounds "
          f"({args.workload})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
