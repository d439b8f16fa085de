"""Can one run take the GPU's memory from the others by calling the driver itself?

Through the real Runner (sandbox, two slots), on a machine with an NVIDIA GPU: a "hog" run loads
libcuda with ctypes (no JAX, so no XLA allocator and no memory fraction in the way), creates a
context and cuMemAlloc's 256 MiB blocks until the driver refuses, then holds them; meanwhile a
"victim" run does an ordinary JAX computation that needs ~1.5 GiB on the device. Printed as
JSON: the device's memory, what the hog got, the victim's status and message. Exit status 0 when
the probe ran (whatever it found), 2 when there is no GPU or no CUDA driver here.

    python3 deploy/gpu_memory_probe.py [--out FILE]      (deploy/device-check.sh runs it)
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import json
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import load
from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner

HOLD_S = 12
HOG = f"""
import ctypes, json, time
cuda = ctypes.CDLL("libcuda.so.1")
assert cuda.cuInit(0) == 0
device, context = ctypes.c_int(), ctypes.c_void_p()
assert cuda.cuDeviceGet(ctypes.byref(device), 0) == 0
assert cuda.cuCtxCreate_v2(ctypes.byref(context), 0, device) == 0
free, total = ctypes.c_size_t(), ctypes.c_size_t()
cuda.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total))
block, taken, code = 256 << 20, 0, 0
pointer = ctypes.c_uint64()
while True:
    code = cuda.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(block))
    if code != 0:
        break
    taken += block
print(json.dumps({{"free_before": free.value, "total": total.value, "taken": taken,
                  "refused_with": code, "ready_at": time.monotonic()}}), flush=True)
time.sleep({HOLD_S})
"""
VICTIM = """
import time, jax, jax.numpy as jnp
started = time.monotonic()
x = jnp.ones((384, 1024, 1024), dtype=jnp.float32)  # 1.5 GiB
print(float((x * 2).sum()), jax.devices()[0].platform, started)
"""


def gpu_present() -> bool:
    """An NVIDIA device node and a CUDA driver library, without initialising CUDA in this
    process (a test process that forks afterwards must not hold a CUDA context)."""
    return Path("/dev/nvidiactl").exists() and ctypes.util.find_library("cuda") is not None


def probe() -> dict[str, object]:
    config = replace(load({}), max_concurrent=2, timeout_s=40, max_timeout_s=40)
    runner = Runner(config)
    try:
        runner.start()
        box: dict[str, RunResult] = {}
        started = threading.Event()

        def hog() -> None:
            box["hog"] = runner.run(RunRequest(code=HOG),
                                    lambda kind, _: started.set() if kind == "running" else None)

        thread = threading.Thread(target=hog)
        thread.start()
        started.wait(120)
        time.sleep(4)  # the hog has allocated by now (it prints when it has)
        victim = runner.run(RunRequest(code=VICTIM))
        thread.join(120)
        hog_result = box.get("hog")
    finally:
        runner.close()
    found: dict[str, object] = {"hog_status": hog_result.status if hog_result else None}
    if hog_result is not None and hog_result.stdout.strip():
        try:
            found.update(json.loads(hog_result.stdout.strip().splitlines()[0]))
        except ValueError:
            found["hog_stdout"] = hog_result.stdout[-500:]
    found.update(victim_status=victim.status, victim_message=victim.message[:300],
                 victim_stdout=victim.stdout[-300:])
    words = victim.stdout.split()
    ready = found.get("ready_at")
    if words and isinstance(ready, float):
        # Monotonic clocks agree across the sandbox (no time namespace).
        with contextlib.suppress(ValueError):
            found["victim_ran_while_held"] = ready < float(words[-1]) < ready + HOLD_S
    total = found.get("total")
    if isinstance(total, int) and total:
        found["hog_share_of_device"] = round(int(found.get("taken", 0)) / total, 3)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not gpu_present():
        print("gpu_memory_probe: no NVIDIA GPU or CUDA driver here; nothing measured")
        return 2
    found = probe()
    text = json.dumps(found, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
