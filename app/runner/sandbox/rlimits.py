"""Resource limits that turn runaway snippets into clean errors instead of a dead host.

RLIMIT_DATA (not RLIMIT_AS: XLA reserves ~1.4 GiB of address space for a tiny jit) makes list,
NumPy and jnp bombs raise MemoryError; RLIMIT_CPU is per process and cumulative, so what the
process already used is added, and it counts every thread, so it is PLAYGROUND_CPU_S per core of
the run's CPU share; CORE=0 keeps crash dumps off the disk.
"""

from __future__ import annotations

import math
import os
import resource

from app.config import Settings
from app.runner.policy import cpu_limit_s

MIB = 1 << 20
# Below this, `import jax` plus a small jit fails (measured: 216 MiB).
DATA_FLOOR_MB = 216


def cpu_seconds_used() -> float:
    times = os.times()
    return times.user + times.system


def _set(kind: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit; never try to raise the hard limit above what the process already has."""
    _, current_hard = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def apply(settings: Settings, *, limit_processes: int | None = None) -> None:
    """Apply every limit of one run to the calling process (inherited by its children)."""
    data_mb = max(settings.memory_mb, DATA_FLOOR_MB)
    _set(resource.RLIMIT_DATA, data_mb * MIB)
    # SIGXCPU at the soft limit, SIGKILL one second later if it is caught. The limit grows with
    # the cores the run may use (app/runner/policy.py).
    cpu_soft = math.ceil(cpu_seconds_used() + cpu_limit_s(settings))
    _set(resource.RLIMIT_CPU, cpu_soft, cpu_soft + 1)
    _set(resource.RLIMIT_FSIZE, settings.file_size_mb * MIB)
    _set(resource.RLIMIT_NOFILE, settings.open_files)
    _set(resource.RLIMIT_CORE, 0)
    if limit_processes is not None:
        # Counted per user across the host: only meaningful when the caller knows the baseline.
        _set(resource.RLIMIT_NPROC, limit_processes)


def disable_core_dumps() -> None:
    _set(resource.RLIMIT_CORE, 0)
