"""Who the run is: an unprivileged uid with no capabilities and no way to gain any."""

from __future__ import annotations

import os

from app.runner.sandbox import libc

# "nobody": owns no file of the server; /etc/shadow and root's files are unreadable to it. The
# uid inside a user namespace; as root each run gets its own uid instead
# (app/runner/supervisor/uids.py), so per-user kernel quotas (inotify instances, pipe buffers) are
# not shared between runs.
SANDBOX_UID = 65534
SANDBOX_GID = 65534
OOM_SCORE_ADJ = 1000  # the most: a run is the first process the host's OOM killer picks


def enter_user_namespace(outer_uid: int, outer_gid: int) -> None:
    """Map the caller's own uid/gid to nobody inside (the only mapping an unprivileged user may
    write); the process keeps its capabilities inside the new namespace until they are dropped."""
    # /proc/self/*_map belong to root while the process is non-dumpable (after a uid change).
    libc.prctl(libc.PR_SET_DUMPABLE, 1)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{SANDBOX_UID} {outer_uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{SANDBOX_GID} {outer_gid} 1")


def drop(as_root: bool, uid: int = SANDBOX_UID, gid: int = SANDBOX_GID) -> None:
    """Become uid/gid (as root) and drop every capability; then forbid regaining them."""
    if as_root:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    libc.drop_all_capabilities()
    set_no_new_privs()
    if libc.effective_capabilities() != 0:
        raise OSError("capabilities remain after dropping them")


def raise_oom_score() -> None:
    """The host's OOM killer takes a run before anything else. Set while still privileged, so
    the run cannot lower it again (as root the kernel records it as the process's minimum)."""
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(OOM_SCORE_ADJ))


def set_no_new_privs() -> None:
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)


def no_new_privs() -> bool:
    return libc.prctl(libc.PR_GET_NO_NEW_PRIVS) == 1
