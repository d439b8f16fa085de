"""Which per-run limits held a run, and how: shown with every result and on the System page.

A cgroup per run is the strongest form of each limit; where the engine gives no writable cgroup
(a container's read-only /sys/fs/cgroup) the sandbox replaces each with limits that need none
(sandbox/rlimits.py, sandbox/mounts.py). `describe` names the form that held, from the layers a
run reports; `memory_bounded` says whether a run's memory has a bound of its own at all.
"""

from __future__ import annotations

from app.config import Settings
from app.runner.policy import cpu_limit_s


def memory_bounded(layers: dict[str, bool]) -> bool:
    """A run's memory has a bound of its own: its memory cgroup, or RLIMIT_AS (RLIMIT_DATA alone
    leaves shared mappings unbounded)."""
    return bool(layers.get("cgroup_memory") or layers.get("rlimit_as"))


def describe(layers: dict[str, bool], settings: Settings,
             oom_kept_by_kernel: bool) -> dict[str, str]:
    """limit -> how it was enforced for a run with these layers (plain sentences)."""
    s = settings
    tmpfs = f"its /tmp, /dev/shm and other writable places are tmpfs of {s.file_size_mb} MiB each"
    if layers.get("cgroup_memory"):
        memory = f"memory cgroup, {s.memory_mb} MiB for all its processes; {tmpfs}"
        if layers.get("rlimit_as"):
            memory += "; RLIMIT_AS per process"
    elif layers.get("rlimit_as"):
        memory = (f"no memory cgroup here: RLIMIT_DATA {s.memory_mb} MiB and RLIMIT_AS (all its "
                  f"mappings, shared ones too) per process; {tmpfs}")
    else:
        memory = (f"UNBOUNDED for shared memory: no memory cgroup and no RLIMIT_AS here; only "
                  f"RLIMIT_DATA {s.memory_mb} MiB per process; {tmpfs}")
    if layers.get("cgroup_pids"):
        processes = f"pids cgroup, {s.max_pids} processes and threads"
    elif layers.get("rlimit_nproc"):
        processes = (f"RLIMIT_NPROC {s.max_pids} processes and threads, counted for the run's "
                     "own user (its own user namespace or run uid)")
    else:
        processes = "no per-run bound here: only the container's own process limit"
    cpu_time = f"{cpu_limit_s(s):g} s of CPU time (RLIMIT_CPU), {s.timeout_s:g} s wall clock"
    if layers.get("cgroup_cpu"):
        cpu = f"cpu cgroup quota of {max(1, s.cores_per_run)} core(s); {cpu_time}"
    else:
        cpu = f"no cpu cgroup here (no core quota): {cpu_time}"
    if not layers.get("oom_score_adj"):
        oom = "not set"
    elif oom_kept_by_kernel:
        oom = "1000, kept by the kernel (CAP_SYS_RESOURCE)"
    else:
        oom = "1000; the supervisor ends a run that lowers it (checked every 0.5 s)"
    return {"memory": memory, "processes": processes, "cpu": cpu, "oom_score": oom}
