#!/usr/bin/env bash
# One-shot check of the GPU path (issue 10) on a GPU machine whose image already has jax[cuda]
# (no streamlit needed: the runner and worker never import it). Writes every log to $OUT.
# Usage there: bash deploy/device-check.sh   (wheels for missing packages in .whl/, optional;
# FULL=1 also runs the whole runner/worker/sandbox suite at the end, ~2.5 min more).
# Steps, most important first, each with its own time limit (about 12.5 min at most in all):
#   env.txt          jax, devices, GPUs, cores, memory
#   run.json         one matmul through the sandbox (platform, target, layers, policy notes)
#   gpu-tests.txt    tests/runner/test_gpu_runs.py (policy from the GPU, session cache rerun,
#                    GPU memory bomb -> memory beside an ok run, timing workload not stopped on
#                    CPU time, pmap fallback to the CPU devices, runs spread over GPUs) and
#                    tests/worker/test_gpu.py
#   bench.txt        python -m app bench --gpu: the figures beside its targets
#   bench-no-preload.txt   the same pool with PLAYGROUND_GPU_PRELOAD=0: preparation p50 and
#                    phases without the zygote's CUDA library preload, for comparison
#   timing.txt       bench/timing_accuracy.py --sandbox (failed on CPU time before issue 10)
#   warm-child.txt   bench/warm_child.py: runs with and without the waiting child's first tiny
#                    computation, side by side
set -uo pipefail
OUT=${OUT:-/tmp/device-check}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1
export PLAYGROUND_STATE_DIR=${PLAYGROUND_STATE_DIR:-/tmp/pgstate-device}
step() { echo "== $1 ($(date +%T))"; }
{ python3 -c 'import jax; print(jax.__version__, jax.devices())'; nvidia-smi -L
  nproc; free -g | head -2; } 2>&1 | tee "$OUT/env.txt"

step 'app run (GPU)'
printf 'import jax, jax.numpy as jnp\nx = jnp.ones((2048, 2048))\nprint(jax.devices()[0].platform, float((x @ x).sum()))\n' \
  | timeout 120 python3 -m app run - --json --timeout 30 | tee "$OUT/run.json"; echo

step 'GPU tests (runner, worker)'
{ timeout 240 python3 -m pytest -q -s -p no:cacheprovider tests/runner/test_gpu_runs.py
  JAX_PLATFORMS=cuda,cpu timeout 120 python3 -m pytest -q -p no:cacheprovider tests/worker/test_gpu.py
} 2>&1 | tee "$OUT/gpu-tests.txt" | tail -30

step 'bench with the accelerator figures'
timeout 330 python3 -m app bench --runs 20 --baseline-runs 3 --seconds 10 --gpu --gpu-runs 20 \
  --spacing 1 2>&1 | tee "$OUT/bench.txt"

step 'preparation without the CUDA library preload'
PLAYGROUND_GPU_PRELOAD=0 timeout 120 python3 -m app bench --runs 5 --baseline-runs 1 --seconds 3 \
  2>&1 | tee "$OUT/bench-no-preload.txt" | grep -E 'preparation|first run|runner '

step 'timing accuracy through the sandbox'
timeout 150 python3 bench/timing_accuracy.py --sandbox --rounds 3 --size 8192 2>&1 \
  | tee "$OUT/timing.txt" | tail -8

step 'the first computation of a waiting child, with and without'
timeout 90 python3 bench/warm_child.py --pairs 8 2>&1 | tee "$OUT/warm-child.txt" | tail -3

if [ "${FULL:-0}" = 1 ]; then
  step 'pytest runner/worker/sandbox'
  timeout 170 python3 -m pytest -q -x -p no:cacheprovider tests/runner tests/worker tests/sandbox \
    2>&1 | tee "$OUT/pytest.txt" | tail -25
fi
step done
