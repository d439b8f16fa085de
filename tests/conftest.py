"""Shared test set-up. Environment first: JAX reads XLA_FLAGS once, at backend start."""

from __future__ import annotations

import os

# 8 host devices so pmap demos work on CPU, as in the sandboxed workers (app.config.cpu_devices).
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


# --- the shared sandboxed Runner (owned by the runner engineer) -----------------------------
# One supervisor + zygote for the whole session: start-up and the warm-up are paid once.
# Use it as `def test_x(runner): runner.run(RunRequest(code=...))`; it is closed at the end.
import pytest


@pytest.fixture(scope="session")
def runner():
    from app.config import Settings
    from app.runner.runner import Runner

    shared = Runner(Settings())
    shared.start()
    yield shared
    shared.close()
