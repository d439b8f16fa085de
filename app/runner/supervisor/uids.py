"""The runs' own uids: each child gets one from a configured range while it exists.

Kernel quotas per user (inotify instances, pipe buffer pages, RLIMIT_NPROC, the root file
system's reserved blocks) were shared by every run when all ran as uid 65534: a run holding 128
inotify instances made a concurrent run's inotify_init fail. As root the sandbox now drops to a
uid (and a gid of the same number) that no other live run has. A uid goes back to the pool when
its child is discarded: its cgroup and pid namespace are gone by then, so no process of it is left.
In a user namespace (the app not root) every run maps to the app's own uid instead, and the
kernel charges those quotas to it: per-run uids need the app to run as root (docs/operations.md).
"""

from __future__ import annotations

from collections import deque

from app.config import Settings


class UidPool:
    """Free uids, lowest first; acquire() -> uid or None when all are in use."""

    def __init__(self, first: int, count: int) -> None:
        self.free: deque[int] = deque(range(first, first + count))
        self.range = range(first, first + count)

    @classmethod
    def from_settings(cls, settings: Settings) -> UidPool:
        return cls(settings.run_uid_first, settings.run_uid_count)

    def acquire(self) -> int | None:
        return self.free.popleft() if self.free else None

    def release(self, uid: int | None) -> None:
        if uid is not None and uid in self.range and uid not in self.free:
            self.free.append(uid)

    def in_use(self) -> int:
        return len(self.range) - len(self.free)
