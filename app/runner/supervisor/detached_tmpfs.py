"""A tmpfs mounted nowhere: a size-capped, private place reachable only through a descriptor.

The new mount API (fsopen, fsconfig, fsmount; Linux 5.2) makes a tmpfs and returns a descriptor
of its root without attaching it to any mount point: no path on the host, and none in any run's
mount namespace, leads to it. Whoever holds the descriptor (or a copy passed over a unix socket)
can open files under it (`/proc/self/fd/N/...`, or `dir_fd=`); `..` at its root stays at its root.
The kernel enforces its size and inode count; it is freed when the last descriptor closes.

As root the supervisor makes it directly. Without root, a throwaway helper process makes it in a
new user namespace of its own (tmpfs may be mounted there) and passes the descriptor back; files
on it then belong to the supervisor's uid on the host, as do the runs' (their user namespace maps
nobody to it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
from dataclasses import dataclass
from functools import cache

# The same numbers on every architecture (syscalls added after 5.0 share one table).
SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 430, 431, 432
FSOPEN_CLOEXEC = 1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC = 0x2, 0x4, 0x8
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
PR_SET_DUMPABLE = 4
HELPER_TIMEOUT_S = 10.0


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: object) -> int:
    result = _libc().syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)


def _make(size_bytes: int, max_files: int, owner: tuple[int, int] | None,
          mode: int = 0o700) -> int:
    """fsopen + fsconfig + fsmount in the calling process; the detached mount's descriptor."""
    context = _syscall(SYS_FSOPEN, b"tmpfs", FSOPEN_CLOEXEC)
    try:
        options = [(b"size", str(size_bytes).encode()), (b"nr_inodes", str(max_files).encode()),
                   (b"mode", f"{mode:04o}".encode())]
        if owner is not None:
            options += [(b"uid", str(owner[0]).encode()), (b"gid", str(owner[1]).encode())]
        for key, value in options:
            _syscall(SYS_FSCONFIG, context, FSCONFIG_SET_STRING, key, value, 0)
        _syscall(SYS_FSCONFIG, context, FSCONFIG_CMD_CREATE, None, None, 0)
        attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
        return _syscall(SYS_FSMOUNT, context, FSMOUNT_CLOEXEC, attributes)
    finally:
        os.close(context)


def _make_in_user_namespace(size_bytes: int, max_files: int) -> int:
    """Make it in a forked helper that is root in a user namespace of its own (the caller must
    be single-threaded, as the supervisor is); the descriptor comes back over a socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    uid, gid = os.getuid(), os.getgid()
    pid = os.fork()
    if pid == 0:  # the helper: never returns
        code = 1
        try:
            ours.close()
            if _libc().unshare(ctypes.c_int(CLONE_NEWUSER | CLONE_NEWNS)) == 0:
                _libc().prctl(ctypes.c_int(PR_SET_DUMPABLE), ctypes.c_ulong(1))
                for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                                   ("gid_map", f"0 {gid} 1")):
                    with open(f"/proc/self/{name}", "w") as f:
                        f.write(text)
                socket.send_fds(theirs, [b"m"], [_make(size_bytes, max_files, None)])
                code = 0
        except BaseException:
            code = 1
        os._exit(code)
    theirs.close()
    try:
        ours.settimeout(HELPER_TIMEOUT_S)
        _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    finally:
        ours.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    if not fds:
        raise OSError("no tmpfs from the user-namespace helper (user namespaces unavailable?)")
    return fds[0]


def create(size_bytes: int, max_files: int, owner: tuple[int, int] | None,
           mode: int = 0o700) -> int:
    """A new detached tmpfs: its root's descriptor (O_PATH, close-on-exec). owner: uid/gid of its
    root directory; None: the caller's. mode: its root's mode (as root, 0o1777 lets runs of
    several uids add entries, none remove another's). Raises OSError where neither way works
    (an old kernel, no user namespaces, a seccomp profile that denies these calls)."""
    try:
        return _make(size_bytes, max_files, owner, mode)
    except PermissionError:
        if os.geteuid() == 0:
            raise
    return _make_in_user_namespace(size_bytes, max_files)


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    free_bytes: int
    free_files: int


def usage(fd: int) -> Usage:
    st = os.fstatvfs(fd)
    return Usage((st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize,
                 st.f_favail)
