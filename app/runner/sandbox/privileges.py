"""Who the run is: an unprivileged uid with no capabilities and no way to gain any."""

from __future__ import annotations

import os

from app.runner.sandbox import libc

# "nobody": owns no file of the server; /etc/shadow and root's files are unreadable to it.
SANDBOX_UID = 65534
SANDBOX_GID = 65534


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


def drop(as_root: bool) -> None:
    """Become nobody (as root) and drop every capability; then forbid regaining them."""
    if as_root:
        os.setgroups([])
        os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
        os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    libc.drop_all_capabilities()
    set_no_new_privs()
    if libc.effective_capabilities() != 0:
        raise OSError("capabilities remain after dropping them")


def set_no_new_privs() -> None:
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)


def no_new_privs() -> bool:
    return libc.prctl(libc.PR_GET_NO_NEW_PRIVS) == 1
