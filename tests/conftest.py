"""Shared test set-up. Environment first: JAX reads XLA_FLAGS once, at backend start."""

from __future__ import annotations

import os

# 8 host devices so pmap demos work on CPU, as in the sandboxed workers (app.config.cpu_devices).
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _cpu_workaround() -> None:
    """jax 0.10.2's CPU compiler can fail on a matmul that feeds jax.debug.print (0.11.2 too,
    seen on a GPU machine's image); the runner sets this flag for its workers, so in-process
    tests run with it too. Here, in the first conftest, before any test module can start the
    backend. A JAX that does not know the flag aborts on it: probe first."""
    import subprocess
    import sys
    from importlib.metadata import version

    flag = "--xla_cpu_experimental_ynn_fusion_type="
    if flag in os.environ.get("XLA_FLAGS", ""):
        return
    if not version("jaxlib").startswith("0.10."):  # measured on 0.10; others are probed
        env = {**os.environ, "XLA_FLAGS": flag, "JAX_PLATFORMS": "cpu"}
        probe = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            return
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()


_cpu_workaround()
# Rooms and exercise progress of test runs go to a throwaway folder, never the real data dir.
if "PLAYGROUND_DATA_DIR" not in os.environ and "PLAYGROUND_DATABASE_URL" not in os.environ:
    import atexit
    import functools
    import shutil
    import tempfile

    os.environ["PLAYGROUND_DATA_DIR"] = tempfile.mkdtemp(prefix="playground-test-data-")
    atexit.register(functools.partial(shutil.rmtree, os.environ["PLAYGROUND_DATA_DIR"], True))


# --- the shared sandboxed Runner (owned by the runner engineer) -----------------------------
# One supervisor + zygote for the whole session: start-up and the warm-up are paid once.
# Use it as `def test_x(runner): runner.run(RunRequest(code=...))`; it is closed at the end.
import pytest  # noqa: E402 (after the environment above, on purpose)


@pytest.fixture(scope="session")
def runner():
    from app.config import Settings
    from app.runner.api.runner import Runner

    shared = Runner(Settings())
    shared.start()
    yield shared
    _close_and_check_nothing_is_left(shared)


def _close_and_check_nothing_is_left(shared) -> None:
    """After the session: no process of the pool and no scratch dir may outlive close()."""
    import time

    import psutil

    from app.runner.platform import state_dir

    info = shared.status()
    pids = [info.get("supervisor_pid"), info.get("zygote_pid"), *info.get("child_pids", [])]
    run_root = state_dir(shared.settings) / f"runs-{info.get('supervisor_pid')}"
    shared.close()

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids if p) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if p and alive(p)]
    if left or run_root.exists():
        pytest.fail(f"the shared runner left processes {left} or scratch {run_root}")


# --- a private Redis (the remote runner's engine) ----------------------------------------------
@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """One redis-server per test module, on a unix socket (and a free loopback port), stopped
    at the end of the module."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"), tcp=True)
    yield server
    server.stop()
