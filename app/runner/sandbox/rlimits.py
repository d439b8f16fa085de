"""Resource limits that turn runaway snippets into clean errors instead of a dead host.

RLIMIT_DATA makes list, NumPy and jnp bombs raise MemoryError; RLIMIT_CPU is per process and
cumulative, so what the process already used is added, and it counts every thread, so it is
PLAYGROUND_CPU_S per core of the run's CPU share; CORE=0 keeps crash dumps off the disk.

Memory that RLIMIT_DATA does not count (shared mappings: mmap MAP_SHARED, a mapped memfd or
tmpfs file) is bounded by RLIMIT_AS: in a container whose engine gives no writable cgroup it is
the only per-run bound of those pages, and with a memory cgroup it ends a shared-memory bomb at
once instead of after a slow fill. Its value: the address space the process has now, plus the
run's memory,
plus ADDRESS_RESERVE for what the JAX backend maps when it starts (thread stacks, malloc arenas).
glibc reserves 64 MiB of address space per malloc arena, up to 8 per core: the arenas are capped
at MALLOC_ARENAS first, so the reserve does not grow with the host's cores (measured on 2 cores:
the CPU backend's start maps ~1.05 GiB with default arenas, ~150 MiB with 2). Not on GPU or TPU
hosts: their drivers map device memory into the address space (terabytes with CUDA).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
from pathlib import Path

from app.config import Settings
from app.runner.policy import cpu_limit_s

MIB = 1 << 20
# Below this, `import jax` plus a small jit fails (measured: 216 MiB).
DATA_FLOOR_MB = 216
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc mallopt parameter
ADDRESS_RESERVE_MB = 512
ADDRESS_PER_CORE_MB = 16  # one XLA worker thread's stack (8 MiB) and guard, twice over
# Device nodes of accelerators whose drivers map device memory into the process.
ACCELERATOR_DEVICES = ("/dev/nvidiactl", "/dev/accel0", "/dev/vfio")


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


def address_space_allowed() -> bool:
    """RLIMIT_AS leaves JAX working only where no accelerator driver maps device memory."""
    if os.environ.get("JAX_PLATFORMS") == "cpu":
        return True
    return not any(Path(p).exists() for p in ACCELERATOR_DEVICES)


def address_space_mb(settings: Settings) -> int:
    """The RLIMIT_AS of a run started now (see the module's docstring)."""
    return (_vm_size_mb() + max(settings.memory_mb, DATA_FLOOR_MB) + ADDRESS_RESERVE_MB
            + ADDRESS_PER_CORE_MB * (os.cpu_count() or 1))


def _vm_size_mb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) // 1024
    return 0


def _cap_malloc_arenas() -> None:
    # Not glibc (no mallopt): its allocator reserves no such arenas.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def apply(settings: Settings, *, limit_processes: int | None = None,
          address_space: bool = False) -> None:
    """Apply every limit of one run to the calling process (inherited by its children).
    address_space: also RLIMIT_AS (address_space_allowed)."""
    data_mb = max(settings.memory_mb, DATA_FLOOR_MB)
    _set(resource.RLIMIT_DATA, data_mb * MIB)
    if address_space:
        _cap_malloc_arenas()
        _set(resource.RLIMIT_AS, address_space_mb(settings) * MIB)
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
