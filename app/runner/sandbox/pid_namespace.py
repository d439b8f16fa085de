"""A run's own pid namespace: waiter outside, a minimal init as pid 1, the worker as pid 2."""

from __future__ import annotations

import contextlib
import os
import signal
from typing import NoReturn

from app.runner.sandbox import (
    libc,
    mounts,
    rlimits,
)


def fork_into_pid_namespace() -> None:
    """Three processes from here on; returns only in the last one, which runs the code.

    waiter (this process, outside the namespace): waits and exits exactly as the worker did;
    init (pid 1 inside): reaps orphans, reports the worker's wait status to the waiter and exits,
        which makes the kernel kill every process left in the namespace;
    worker (pid 2): returns. It is not pid 1, so its signals behave normally (pid 1 ignores
        default-action signals sent from inside its namespace: os.abort, SIGXCPU, kill(getpid())).
    """
    status_r, status_w = os.pipe()
    init_pid = os.fork()
    if init_pid != 0:
        os.close(status_w)
        _wait_and_mirror(init_pid, status_r)
    os.close(status_r)
    _die_with_parent()
    active_proc = mounts.mount_private_proc()
    worker_pid = os.fork()
    if worker_pid != 0:
        _init_loop(worker_pid, status_w)
    os.close(status_w)
    _die_with_parent()
    if not active_proc:
        raise NoPrivateProc


class NoPrivateProc(Exception):
    """The worker's /proc still shows the host (mounting a fresh one was refused)."""


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)


def _init_loop(worker_pid: int, status_w: int) -> NoReturn:
    """pid 1: reap everything; when the worker ends, pass its status on and end the namespace."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Hold none of the run's pipes open.
        os.closerange(0, status_w)
        os.closerange(status_w + 1, os.sysconf("SC_OPEN_MAX"))
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                os._exit(125)
            if pid == worker_pid:
                os.write(status_w, status.to_bytes(4, "little"))
                os._exit(0)
    except BaseException:
        os._exit(125)


def _wait_and_mirror(init_pid: int, status_r: int) -> NoReturn:
    """Exit exactly as the worker did: same exit code, or killed by the same signal."""
    try:
        for default in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(default, signal.SIG_DFL)
        reported = b""
        while chunk := os.read(status_r, 4 - len(reported)):
            reported += chunk
            if len(reported) == 4:
                break
        _, init_status = os.waitpid(init_pid, 0)
        status = int.from_bytes(reported, "little") if len(reported) == 4 else init_status
        if os.WIFEXITED(status):
            os._exit(os.WEXITSTATUS(status))
        sig = os.WTERMSIG(status)
        rlimits.disable_core_dumps()
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # those have no handler to reset
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    except BaseException:
        os._exit(125)
