#!/usr/bin/env bash
# One-shot check of the runner, worker and snippet library on a GPU machine whose image already
# has jax[cuda] (no streamlit needed: the runner and worker never import it). Writes logs to $OUT.
# Usage there: bash deploy/device-check.sh   (wheels for missing packages in .whl/, optional)
set -uo pipefail
OUT=${OUT:-/tmp/device-check}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 PLAYGROUND_TIMEOUT_S=30
{ python3 -c 'import jax; print(jax.__version__, jax.devices())'; nvidia-smi -L; } 2>&1 | tee "$OUT/env.txt"
echo '== app run (GPU)'
printf 'import jax, jax.numpy as jnp\nx = jnp.ones((2048, 2048))\nprint(jax.devices()[0].platform, float((x @ x).sum()))\n' \
  | timeout 60 python3 -m app run - --json | tee "$OUT/run.json"; echo
echo '== pytest runner/worker/sandbox'
timeout 150 python3 -m pytest -q -x -p no:cacheprovider tests/runner tests/worker tests/sandbox \
  2>&1 | tee "$OUT/pytest.txt" | tail -25
echo '== bench'
timeout 60 python3 -m app bench --runs 20 --baseline-runs 4 --seconds 5 2>&1 | tee "$OUT/bench.txt"
echo '== snippet check'
timeout 100 python3 -m app check snippets --markdown "$OUT/guide-health-gpu.md" 2>&1 | tail -15
# -- issue 9, item 9: GPU memory against a driver-level hog (self-contained block) -------------
# A run cuMemAlloc's through ctypes until the driver refuses, while a concurrent ordinary JAX
# run needs 1.5 GiB; JSON in $OUT/gpu-memory-probe.json (what it means: deploy/README.md).
echo '== gpu memory probe (driver-level hog vs a concurrent run)'
timeout 150 python3 deploy/gpu_memory_probe.py --out "$OUT/gpu-memory-probe.json" 2>&1 | tail -30
