"""Runs that lowered their OOM score, found by the supervisor.

Each run sets /proc/self/oom_score_adj to 1000 before any user code (sandbox/privileges.py), so
the kernel's OOM killer takes a run before the server. With CAP_SYS_RESOURCE (root on a host)
the kernel also records 1000 as the process's minimum and refuses a lower value. Without it (the
image's unprivileged user, any container started with --cap-drop=ALL) the kernel records no
minimum: a run may write 0 back (not below the app's own score, which it inherited). There, the
supervisor reads the score of every process of each running run every CHECK_S and ends a run
that lowered it. What holds in between: a run's memory stays bounded by its own limits (cgroup
or RLIMIT_DATA/RLIMIT_AS), so for at most CHECK_S the OOM killer weighs it like the server.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable

from app.runner.sandbox import libc
from app.runner.sandbox.privileges import OOM_SCORE_ADJ

CHECK_S = 0.5
CAP_SYS_RESOURCE = 24


@functools.cache
def kernel_keeps_minimum() -> bool:
    """True where the kernel refuses a run's lower score by itself (CAP_SYS_RESOURCE here; the
    zygote that forks the runs has this process's capabilities)."""
    return bool(libc.effective_capabilities() >> CAP_SYS_RESOURCE & 1)


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process this pid namespace shows."""
    found: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            # The command name may hold spaces and parentheses: fields start after the last ')'.
            found[int(name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return found


def _score(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/oom_score_adj") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None  # gone


def lowered(roots: Iterable[int]) -> set[int]:
    """The roots whose process tree holds a process with a score below the runs' score."""
    roots = set(roots)
    if not roots:
        return set()
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found = set()
    for root in roots:
        pending = [root]
        while pending:
            pid = pending.pop()
            score = _score(pid)
            if score is not None and score < OOM_SCORE_ADJ:
                found.add(root)
                break
            pending.extend(children.get(pid, ()))
    return found
