"""A seccomp deny-list: the syscalls a JAX snippet never needs and an attacker would.

Default allow (XLA, NumPy and CPython use a wide, version-dependent set of syscalls), with
explicit denials: sockets other than AF_UNIX (no network even where no net namespace exists);
`connect` on any socket and datagram AF_UNIX sockets, so that no socket file of the host (a Redis
or database socket under /run, a container runtime's) can be reached, whatever the mount view
shows (a path-based AF_UNIX peer is reached only by connect, or by sendto/sendmsg with an address
on a datagram socket; a socketpair's stream or seqpacket ends refuse both); namespace and mount
syscalls (no way out of the namespaces), tracing and cross-process memory access, io_uring, bpf,
perf, userfaultfd, the kernel keyring, and host administration. Loaded with TSYNC (every thread)
and NO_NEW_PRIVS. Denied calls fail with EPERM (ENOSYS for clone3, so that libc falls back to
clone, whose flags we can inspect; ENOENT for connect).
"""

from __future__ import annotations

import errno
import socket
from functools import cache
from typing import Any

from app.runner.sandbox import libc

DENIED = (
    # namespaces, mounts, changing root
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # tracing and other processes' memory
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel attack surface a snippet has no use for
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key", "fanotify_init", "open_by_handle_at",
    "name_to_handle_at", "lookup_dcookie", "vhangup",
    # host administration
    "kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "iopl", "ioperm", "sethostname", "setdomainname",
)
TIOCSTI = 0x5412  # push characters into a terminal's input queue
SOCK_TYPE_MASK = 0xF  # the type bits of socket()'s second argument (without NONBLOCK/CLOEXEC)


def install() -> None:
    """Load the filter into the calling process (and, with TSYNC, all its threads)."""
    prepare().load()


@cache
def prepare() -> Any:
    """Build the filter once (the zygote does it at import); each child only loads it."""
    import pyseccomp as seccomp

    deny = seccomp.ERRNO(errno.EPERM)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.set_attr(seccomp.Attr.CTL_NNP, 1)
    f.set_attr(seccomp.Attr.CTL_TSYNC, 1)
    for name in DENIED:
        try:
            f.add_rule(deny, name)
        except (RuntimeError, OSError, ValueError):
            continue  # unknown to this kernel/libseccomp: it cannot be called either
    not_unix = seccomp.Arg(0, seccomp.NE, socket.AF_UNIX)
    f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", not_unix)
    f.add_rule(deny, "socketpair", not_unix)
    # Only AF_UNIX sockets can exist: no connect at all, no datagram ones (their sendto/sendmsg
    # take a peer's path). Stream and seqpacket socketpairs (asyncio, multiprocessing) still work.
    # connect answers ENOENT, as if no socket were there: what a library probing for a daemon
    # (the CUDA driver looks for an MPS control socket at cuInit) already handles.
    f.add_rule(seccomp.ERRNO(errno.ENOENT), "connect")
    datagram = seccomp.Arg(1, seccomp.MASKED_EQ, SOCK_TYPE_MASK, socket.SOCK_DGRAM)
    unix = seccomp.Arg(0, seccomp.EQ, socket.AF_UNIX)
    f.add_rule(deny, "socket", unix, datagram)
    f.add_rule(deny, "socketpair", unix, datagram)
    for flag in _clone_namespace_flags():
        f.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    f.add_rule(deny, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    return f


def _clone_namespace_flags() -> list[int]:
    flags = libc.NAMESPACE_FLAGS
    return [1 << bit for bit in range(32) if flags & (1 << bit)]
