"""The resource policy: how many runs at once, and what each may use, from what this host has.

Pure: the host's facts (platform, devices, GPU memory, cores) and the settings in, a policy out.
The supervisor decides it once at start, hands the resolved settings to the zygote (so the
children's rlimits and the cgroups follow it) and shows it on the System page.

CPU time. A run's cgroup gets `cores_per_run` cores of CPU quota, and its RLIMIT_CPU is
`PLAYGROUND_CPU_S` per core of that share: CPU seconds are counted over all the run's threads, so a
limit that does not grow with the cores a run may use kills ordinary multi-threaded work (XLA's
compiler threads on a 16-core GPU host burnt 20 CPU seconds in 2.7 s of wall time) while a
single-threaded busy loop would get the same limit either way. On GPU hosts XLA's parallel
compilation is also capped at the run's share, so its threads match the quota instead of being
throttled by it.

GPU hosts. How many runs fit at once follows the GPU memory, not the cores: each GPU takes
`memory / PLAYGROUND_GPU_GIB_PER_RUN` runs (at least one), each run may allocate 0.9 / that of its
GPU's memory (the rest: the CUDA contexts), and `PLAYGROUND_MAX_CONCURRENT` still caps the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from app.config import Settings

GIB = 1 << 30
GPU_SHARE = 0.9  # of a GPU's memory, split between its runs; the rest for CUDA contexts


@dataclass(frozen=True)
class HostFacts:
    platform: str  # "cpu", "gpu", "tpu"
    device_count: int
    cores: int
    gpu_memory_bytes: int | None = None  # of one GPU; None where unknown or not a GPU host


@dataclass(frozen=True)
class ResourcePolicy:
    runs_at_once: int
    cores_per_run: int
    cpu_limit_s: float  # RLIMIT_CPU of a run: cpu_s x cores_per_run
    runs_per_gpu: int | None = None
    gpu_memory_fraction: float | None = None  # of its GPU's memory, per run
    compile_threads: int | None = None  # XLA's parallel GPU compilation, per run
    why: list[str] = field(default_factory=list)  # one sentence per decision, for the System page


def runs_per_gpu(memory_bytes: int | None, gib_per_run: float) -> int:
    """How many runs share one GPU: its memory over what a run may count on; one if unknown."""
    if not memory_bytes:
        return 1
    return max(1, math.floor(memory_bytes / GIB / gib_per_run))


def decide(settings: Settings, host: HostFacts) -> ResourcePolicy:
    why: list[str] = []
    runs = settings.max_concurrent
    per_gpu: int | None = None
    fraction: float | None = None
    if host.platform == "tpu":
        runs = 1
        why.append("TPU: one process owns the chip, so runs go one at a time.")
    elif host.platform == "gpu":
        per_gpu = runs_per_gpu(host.gpu_memory_bytes, settings.gpu_gib_per_run)
        gpus = max(1, host.device_count)
        runs = max(1, min(settings.max_concurrent, per_gpu * gpus))
        per_gpu = min(per_gpu, runs)
        fraction = settings.gpu_memory_fraction or GPU_SHARE / per_gpu
        memory = (f"{host.gpu_memory_bytes / GIB:.0f} GiB" if host.gpu_memory_bytes
                  else "unknown memory")
        why.append(
            f"{gpus} GPU(s) of {memory}: {per_gpu} run(s) per GPU "
            f"(PLAYGROUND_GPU_GIB_PER_RUN={settings.gpu_gib_per_run:g}), {runs} at once; "
            f"each run may allocate {fraction:.0%} of its GPU's memory."
        )
        if gpus > 1:
            why.append("Each run gets one GPU, the least busy one; a snippet that uses pmap or "
                       "sharding sees them all.")
    else:
        why.append(f"CPU: {runs} run(s) at once (PLAYGROUND_MAX_CONCURRENT).")
    cores = settings.cores_per_run or max(1, host.cores // runs)
    cpu_limit = settings.cpu_s * cores
    why.append(
        f"Each run has {cores} core(s) of CPU quota and may use {cpu_limit:g} s of CPU time "
        f"(PLAYGROUND_CPU_S={settings.cpu_s:g} per core): multi-threaded work fits, "
        "a busy loop is stopped."
    )
    compile_threads = cores if host.platform == "gpu" else None
    if compile_threads:
        why.append(f"XLA compiles a run's GPU kernels on {compile_threads} thread(s), its share.")
    return ResourcePolicy(
        runs_at_once=runs,
        cores_per_run=cores,
        cpu_limit_s=cpu_limit,
        runs_per_gpu=per_gpu,
        gpu_memory_fraction=fraction,
        compile_threads=compile_threads,
        why=why,
    )


def resolved(settings: Settings, policy: ResourcePolicy) -> Settings:
    """The settings every part of a run follows (zygote, children, cgroups, outcome)."""
    return replace(settings, max_concurrent=policy.runs_at_once,
                   cores_per_run=policy.cores_per_run)


def cpu_limit_s(settings: Settings) -> float:
    """A run's CPU-time limit under these (resolved) settings."""
    return settings.cpu_s * max(1, settings.cores_per_run)


def rows(policy: ResourcePolicy) -> dict[str, str]:
    """The policy as the System page's table shows it."""
    out = {
        "runs at once": str(policy.runs_at_once),
        "CPU cores per run (quota)": str(policy.cores_per_run),
        "CPU time per run": f"{policy.cpu_limit_s:g} s",
    }
    if policy.runs_per_gpu is not None:
        out["runs per GPU"] = str(policy.runs_per_gpu)
    if policy.gpu_memory_fraction is not None:
        out["GPU memory per run"] = f"{policy.gpu_memory_fraction:.0%} of its GPU"
    if policy.compile_threads is not None:
        out["XLA compile threads per run"] = str(policy.compile_threads)
    return out
