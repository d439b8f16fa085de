"""The run's environment: an allow-list, never the server's variables (secrets live there)."""

from __future__ import annotations

import os
import re
from pathlib import Path

# Exact names passed through from the parent (the zygote set the JAX/XLA ones on purpose).
ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "XLA_FLAGS",
        "JAX_PLATFORMS",
        "JAX_ENABLE_X64",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "MALLOC_ARENA_MAX",
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA_VISIBLE_DEVICES",
        "TF_CPP_MIN_LOG_LEVEL",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PYTHONIOENCODING",
        "LD_LIBRARY_PATH",
    }
)
# Prefixes of accelerator and JAX settings (never PLAYGROUND_*: the operator's config).
ALLOWED_PREFIXES = ("XLA_PYTHON_CLIENT_", "JAX_", "TPU_", "LIBTPU_", "NCCL_")
_SAFE_VALUE = re.compile(r"[\x20-\x7e]*")


def allowed(name: str) -> bool:
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def scrub(scratch: Path) -> dict[str, str]:
    """Replace os.environ (and the C environment, via putenv) with the allow-list."""
    kept = {k: v for k, v in os.environ.items() if allowed(k) and _SAFE_VALUE.fullmatch(v)}
    kept.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    kept.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        USER="sandbox",
        LOGNAME="sandbox",
        MPLCONFIGDIR=str(scratch),
        PYTHONDONTWRITEBYTECODE="1",
    )
    os.environ.clear()  # unsetenv for each name, so getenv in C sees the same
    os.environ.update(kept)
    return kept
