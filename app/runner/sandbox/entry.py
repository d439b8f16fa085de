"""Entering the sandbox: every layer applied to a freshly forked child of the zygote."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path

from app.config import Settings, private_dirs
from app.runner import platform
from app.runner.sandbox import (
    cgroups,
    environment,
    libc,
    mounts,
    privileges,
    rlimits,
    seccomp_filter,
)
from app.runner.sandbox.layers import CHILD_LAYERS, INFO_LAYERS, check_required
from app.runner.sandbox.pid_namespace import NoPrivateProc, fork_into_pid_namespace

# Work done once here, in the zygote, instead of in every child: building the seccomp filter
# (pyseccomp's import runs ldconfig) is most of its cost.
with contextlib.suppress(ImportError, OSError, RuntimeError, ValueError):
    seccomp_filter.prepare()


def prepare(settings: Settings) -> None:
    """In the zygote, once: find the host's writable places (a walk of ~20 ms to ~2 s), so its
    children inherit the answer instead of walking again."""
    mounts.writable_host_dirs(run_uids(settings))


def run_uids(settings: Settings) -> frozenset[int]:
    """Every uid a run may have: the configured range, and nobody (in a user namespace)."""
    first = settings.run_uid_first
    return frozenset(range(first, first + settings.run_uid_count)) | {privileges.SANDBOX_UID}


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def _try(active: dict[str, bool], name: str, action: Callable[[], object]) -> bool:
    """Run one layer's set-up; record whether it worked."""
    try:
        action()
    except OSError:
        active[name] = False
        return False
    active[name] = True
    return True


def _state_dirs(settings: Settings) -> tuple[Path | None, Path | None]:
    return platform.state_dir(settings), platform.compile_cache_dir(settings)


def enter_child(settings: Settings, scratch: Path, run_uid: int | None = None) -> dict[str, bool]:
    """Apply every layer to the calling, freshly forked, single-threaded process.

    Returns the active layers (every name of CHILD_LAYERS and INFO_LAYERS). Raises
    SandboxUnavailable if a required layer could not be applied. The calling process must
    already be in the run's cgroup (the cgroup namespace is rooted there).
    """
    active = dict.fromkeys(CHILD_LAYERS + INFO_LAYERS, False)
    as_root = os.geteuid() == 0
    # Read before the namespaces hide the cgroup paths and the device nodes. RLIMIT_AS wherever
    # JAX allows it, memory cgroup or not: shared mappings fill a v1 memory cgroup slowly (a
    # 4 GiB MAP_SHARED bomb ran into the wall clock instead of the memory limit on this host).
    pids_cgroup = cgroups.in_run_group("pids")
    address_space = rlimits.address_space_allowed()
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    scratch = Path(scratch)

    # Own session: a process group of its own, no controlling terminal.
    with contextlib.suppress(OSError):
        os.setsid()
    active["session"] = os.getsid(0) == os.getpid()
    # While still privileged, so that the run cannot lower it again.
    _try(active, "oom_score_adj", privileges.raise_oom_score)

    # Namespaces only while single-threaded: a thread left outside could setns back in.
    if _thread_count() == 1:
        if not as_root and _try(active, "user_ns", lambda: libc.unshare(libc.CLONE_NEWUSER)):
            # Without the map the uid stays the unmapped overflow uid: still nobody.
            with contextlib.suppress(OSError):
                privileges.enter_user_namespace(outer_uid, outer_gid)
        for name, flag in (
            ("net_ns", libc.CLONE_NEWNET),
            ("mount_ns", libc.CLONE_NEWNS),
            ("ipc_ns", libc.CLONE_NEWIPC),
            ("uts_ns", libc.CLONE_NEWUTS),
            # /proc/self/cgroup shows "/": neither the host's cgroup path nor other runs'.
            ("cgroup_ns", libc.CLONE_NEWCGROUP),
            ("pid_ns", libc.CLONE_NEWPID),
        ):
            _try(active, name, functools.partial(libc.unshare, flag))
    if as_root and run_uid is not None:
        uid = gid = run_uid
    elif as_root or active["user_ns"]:
        uid, gid = privileges.SANDBOX_UID, privileges.SANDBOX_GID
    else:
        uid, gid = outer_uid, outer_gid
    workdir = scratch
    if active["mount_ns"]:
        state_dir, cache_dir = _state_dirs(settings)
        plan = mounts.plan(scratch, settings.file_size_mb, uid, gid, state_dir, cache_dir,
                           run_uids=run_uids(settings), private=private_dirs(settings))
        if _try(active, "filesystem", lambda: mounts.apply(plan)):
            workdir = plan.run_dir
    if not active["filesystem"] and as_root:
        os.chown(scratch, uid, gid)  # the run's own plain directory, since no tmpfs is there
    if active["uts_ns"]:
        with contextlib.suppress(OSError):
            libc.sethostname("sandbox")
    if active["pid_ns"]:
        try:
            fork_into_pid_namespace()  # returns only in the worker, pid 2 of the namespace
            active["private_proc"] = True
        except NoPrivateProc:
            active["private_proc"] = False
        with contextlib.suppress(OSError):
            os.setsid()

    os.chdir(workdir)  # the run's own tmpfs (or, without the filesystem layer, its scratch)
    # RLIMIT_NPROC counts per user namespace: in our own one it counts this run alone; as root
    # with a run uid of its own (app/runner/supervisor/uids.py) it counts that uid, this run
    # alone too. As root dropping to the shared nobody it would count every run together: the
    # pids cgroup does it then.
    own_count = active["user_ns"] or (as_root and run_uid is not None and not pids_cgroup)
    rlimits.apply(settings, limit_processes=settings.max_pids if own_count else None,
                  address_space=address_space)
    active["rlimits"] = True
    active["rlimit_as"] = address_space
    active["rlimit_nproc"] = bool(own_count)
    environment.scrub(workdir)
    active["environment"] = True
    with contextlib.suppress(OSError):
        privileges.drop(as_root, uid, gid)
    active["unprivileged"] = os.geteuid() != 0 and libc.effective_capabilities() == 0
    with contextlib.suppress(OSError):
        privileges.set_no_new_privs()
    active["no_new_privs"] = privileges.no_new_privs()
    try:
        seccomp_filter.install()
        active["seccomp"] = True
    except (ImportError, OSError, RuntimeError, ValueError):
        active["seccomp"] = False
    check_required(settings, active, CHILD_LAYERS)
    return active
