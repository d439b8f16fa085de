"""The GPU path through the real sandbox: skipped without an NVIDIA GPU (deploy/device-check.sh
runs it on a GPU host). The backend never starts in this process: the runner's children use the
GPU, this file only looks for the device nodes.
"""

from __future__ import annotations

import glob
import threading
import uuid
from collections.abc import Iterator

import pytest

from app.config import Settings
from app.protocol import InspectRequest, RunRequest, RunResult, TransformStep
from app.runner.api.runner import Runner

pytestmark = pytest.mark.skipif(not glob.glob("/dev/nvidia[0-9]*"), reason="needs an NVIDIA GPU")

MATMUL = "import jax.numpy as jnp\nx = jnp.ones((4096, 4096))\nprint(float((x @ x)[0, 0]))\n"


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    shared = Runner(Settings())  # the host's defaults: the policy decides from the GPU
    shared.start()
    yield shared
    shared.close()


def test_the_policy_comes_from_the_gpu(runner: Runner) -> None:
    info = runner.status()
    assert info["platform"] == "gpu"
    policy = info["policy"]
    assert "runs per GPU" in policy and "GPU memory per run" in policy
    print("GPU policy:", policy, info["notes"])


def test_a_rerun_in_a_session_loads_the_matmul_and_nothing_times_out(runner: Runner) -> None:
    session = uuid.uuid4().hex
    results = [runner.run(RunRequest(code=MATMUL, session_id=session, timeout_s=30))
               for _ in range(3)]
    assert [r.status for r in results] == ["ok"] * 3, results
    assert all(r.stdout == "4096.0\n" for r in results)
    assert results[0].compile_cache.get("session_writes", 0) >= 1
    assert results[1].compile_cache.get("session_hits", 0) >= 1
    assert results[1].compile_cache.get("session_writes", 0) == 0
    print("matmul run durations:", [r.duration_s for r in results])


def test_a_gpu_memory_bomb_ends_memory_while_an_ordinary_run_beside_it_ends_ok(
        runner: Runner) -> None:
    bomb = ("import jax.numpy as jnp\nheld = []\nwhile True:\n"
            "    held.append(jnp.ones((256 << 20,), jnp.uint8))\n"
            "    held[-1].block_until_ready()\n")
    box: dict[str, RunResult] = {}
    thread = threading.Thread(target=lambda: box.update(
        bomb=runner.run(RunRequest(code=bomb, timeout_s=30))))
    thread.start()
    ordinary = runner.run(RunRequest(code=MATMUL, timeout_s=30))
    thread.join()
    assert box["bomb"].status == "memory", box["bomb"]
    assert ordinary.status == "ok", ordinary


def test_the_timing_bench_workload_is_not_stopped_on_cpu_time(runner: Runner) -> None:
    code = ("import jax, jax.numpy as jnp\ndef f(x, w):\n    return jnp.tanh(x @ w) @ w.T\n"
            "x = jnp.ones((8192, 8192)); w = jnp.ones((8192, 8192)) / 8192\n")
    request = RunRequest(code=code, timeout_s=30, inspect=InspectRequest(
        "f", "(x, w)", [TransformStep("jit")], timings=True))
    result = runner.run(request)
    assert result.status == "ok", result
    assert result.inspect is not None and result.inspect.timings is not None


def test_pmap_over_more_items_than_gpus_falls_back_to_the_cpu_devices(runner: Runner) -> None:
    code = "import jax, jax.numpy as jnp\nprint(jax.pmap(lambda x: x * 2)(jnp.arange(8.0)))\n"
    result = runner.run(RunRequest(code=code, session_id=uuid.uuid4().hex))
    assert result.status == "ok", result
    devices = runner.status()["device_count"]
    if devices >= runner.settings.cpu_devices:
        assert result.target == "accelerator"
    else:
        assert result.target == "cpu" and result.platform == "cpu"
        assert result.notes and "host devices" in result.notes[0]
    chosen = runner.run(RunRequest(code=code, target="accelerator"))
    if devices < 8:  # on the accelerator, as asked: JAX's own error
        assert chosen.status == "error" and chosen.target == "accelerator"


def test_runs_are_spread_over_several_gpus(runner: Runner) -> None:
    if runner.status()["device_count"] < 2:
        pytest.skip("one GPU")
    code = ("import os, time, jax\nprint(os.environ.get('CUDA_VISIBLE_DEVICES'), "
            "jax.device_count(), flush=True)\ntime.sleep(2)\n")
    boxes: list[dict[str, RunResult]] = [{}, {}]
    threads = [threading.Thread(target=lambda b=b: b.update(r=runner.run(RunRequest(code=code))))
               for b in boxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = [b["r"].stdout.split() for b in boxes]
    assert all(s[1] == "1" for s in seen), seen  # one device per run
    assert seen[0][0] != seen[1][0], seen  # on different GPUs
