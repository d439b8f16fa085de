#!/usr/bin/env bash
# One-shot check of the GPU path on a GPU machine whose image already has jax[cuda]
# (no streamlit needed: the runner and worker never import it). Writes every log to $OUT.
# Usage there: bash deploy/device-check.sh   (wheels for missing packages in .whl/, optional)
#   STEPS="tests bench" ...  runs only the named steps (default: all but full, in this order)
#   FULL=1 ...               also the whole runner/worker/sandbox suite at the end (~3 min)
# Steps, most important first; typically ~7 min in all, at most ~14.5 min (each has a limit):
#   env        env.txt: jax, devices, GPUs, cores, memory
#   run        run.json: one matmul through the sandbox (platform, target, layers)
#   tests      gpu-tests.txt: tests/runner/test_gpu_runs.py (policy from the GPU, session cache
#              rerun, GPU memory bomb -> memory beside an ok run, timing workload not stopped on
#              CPU time, pmap fallback to the CPU devices, runs spread over GPUs) and
#              tests/worker/test_gpu.py
#   bench      bench.txt: python -m app bench --gpu, the figures beside its targets
#   preload    bench-no-preload.txt: the same with PLAYGROUND_GPU_PRELOAD=0 (preparation p50 and
#              phases without the zygote's CUDA library preload, to compare with bench.txt)
#   timing     timing.txt: bench/timing_accuracy.py --sandbox (failed on CPU time before)
#   warm       warm-child.txt: bench/warm_child.py, runs with and without the waiting child's
#              first tiny computation, side by side
#   gpumem     gpu-memory-probe.json: deploy/gpu_memory_probe.py, a run that takes GPU memory
#              with cuMemAlloc through ctypes beside a concurrent ordinary run
set -uo pipefail
OUT=${OUT:-/tmp/device-check}; mkdir -p "$OUT"
STEPS=${STEPS:-env run tests bench preload timing warm gpumem}
[ "${FULL:-0}" = 1 ] && STEPS="$STEPS full"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1
export PLAYGROUND_STATE_DIR=${PLAYGROUND_STATE_DIR:-/tmp/pgstate-device}
want() { case " $STEPS " in *" $1 "*) echo "== $1 ($(date +%T))"; return 0;; esac; return 1; }

if want env; then
  { python3 -c 'import jax; print(jax.__version__, jax.devices())'; nvidia-smi -L
    nproc; free -g | head -2; ls /sys/fs/cgroup; } 2>&1 | tee "$OUT/env.txt"
fi
if want run; then
  printf 'import jax, jax.numpy as jnp\nx = jnp.ones((2048, 2048))\nprint(jax.devices()[0].platform, float((x @ x).sum()))\n' \
    | timeout 60 python3 -m app run - --json --timeout 30 | tee "$OUT/run.json"; echo
fi
if want tests; then
  { timeout 180 python3 -m pytest -q -s -p no:cacheprovider tests/runner/test_gpu_runs.py
    JAX_PLATFORMS=cuda,cpu timeout 60 python3 -m pytest -q -p no:cacheprovider \
      tests/worker/test_gpu.py
  } 2>&1 | tee "$OUT/gpu-tests.txt" | tail -30
fi
if want bench; then
  timeout 300 python3 -m app bench --runs 20 --baseline-runs 3 --seconds 8 --gpu \
    --gpu-runs 20 --spacing 1 2>&1 | tee "$OUT/bench.txt"
fi
if want preload; then
  PLAYGROUND_GPU_PRELOAD=0 timeout 75 python3 -m app bench --runs 5 --baseline-runs 1 \
    --seconds 3 2>&1 | tee "$OUT/bench-no-preload.txt" | grep -E 'preparation|first run|runner '
fi
if want timing; then
  timeout 120 python3 bench/timing_accuracy.py --sandbox --rounds 3 --size 8192 2>&1 \
    | tee "$OUT/timing.txt" | tail -8
fi
if want warm; then
  timeout 60 python3 bench/warm_child.py --pairs 6 2>&1 | tee "$OUT/warm-child.txt" | tail -3
fi
# -- GPU memory against a driver-level hog -----------------------------------------------------
# A run cuMemAlloc's through ctypes until the driver refuses, while a concurrent ordinary JAX
# run needs 1.5 GiB; JSON in $OUT/gpu-memory-probe.json (what it means: docs/operations.md).
if want gpumem; then
  timeout 150 python3 deploy/gpu_memory_probe.py --out "$OUT/gpu-memory-probe.json" 2>&1 | tail -30
fi
if want full; then
  timeout 180 python3 -m pytest -q -x -p no:cacheprovider tests/runner --ignore=tests/runner/remote \
    tests/worker \
    2>&1 | tee "$OUT/pytest.txt" | tail -25
fi
echo "== done ($(date +%T))"
