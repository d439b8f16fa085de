"""Worker tests call execute() in-process, as the runner's child does after the sandbox is up."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

# docs/architecture.md: jax 0.10.2's CPU compiler can fail on a matmul that feeds jax.debug.print
# (0.11.2 too, seen on the GPU machine's image); the runner sets this flag for its workers, so the
# in-process tests run with it too. A JAX that does not know the flag aborts on it: probe first.
_WORKAROUND = "--xla_cpu_experimental_ynn_fusion_type="


def _accepts(flag: str) -> bool:
    if version("jaxlib").startswith("0.10."):
        return True  # measured here
    env = {**os.environ, "XLA_FLAGS": flag, "JAX_PLATFORMS": "cpu"}
    probe = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          timeout=120, check=False)
    return done.returncode == 0


if _WORKAROUND not in os.environ.get("XLA_FLAGS", "") and _accepts(_WORKAROUND):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_WORKAROUND}".strip()
