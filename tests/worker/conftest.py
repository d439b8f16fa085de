"""Worker tests call execute() in-process, as the runner's child does after the sandbox is up."""

from __future__ import annotations

import os
from importlib.metadata import version

# DESIGN.md: jax 0.10.2's CPU compiler can fail on a matmul that feeds jax.debug.print; the
# runner sets this flag for its workers, so the in-process tests run with it too.
# Only for the JAX that has the bug: other versions may not know the flag (XLA aborts on it).
_WORKAROUND = "--xla_cpu_experimental_ynn_fusion_type="
if version("jaxlib").startswith("0.10.") and _WORKAROUND not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_WORKAROUND}".strip()
