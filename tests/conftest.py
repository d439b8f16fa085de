"""Shared test set-up. Environment first: JAX reads XLA_FLAGS once, at backend start."""

from __future__ import annotations

import os

# 8 host devices so pmap demos work on CPU, as in the sandboxed workers (app.config.cpu_devices).
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
