"""The sandbox of one run: which layers this host can give, and applying them in the child.

API used by the runner (supervisor and zygote):
    probe(settings=None) -> dict[str, bool]       which layers this host provides (cached)
    enter_child(settings, scratch, run_uid=None) -> dict[str, bool]
        in a freshly forked child of the single-threaded zygote, before the JAX backend starts;
        as root the run becomes run_uid (its own, from app/runner/uids.py), else nobody;
        applies every layer and returns which are active. With a pid namespace it forks twice:
        pid 1 of the namespace (a minimal init) and the worker (pid 2) that returns and runs the
        code; the calling process waits and _exits with the worker's status, so the caller's
        wait status is faithful, and killing it (or the cgroup) ends every process of the run.
    RunCgroup(run_id, settings)                   one per run, created by the supervisor
    SandboxUnavailable                            a required layer (PLAYGROUND_REQUIRE_SANDBOX)
                                                  is missing: raised by probe and enter_child

README "Sandbox" says what each layer needs from the host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

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
from app.runner.sandbox.cgroups import RunCgroup

__all__ = ["LAYERS", "RunCgroup", "SandboxUnavailable", "enter_child", "probe"]

# In the order they are applied. "all" in PLAYGROUND_REQUIRE_SANDBOX means every one of these.
CHILD_LAYERS: tuple[str, ...] = (
    "session",
    "oom_score_adj",
    "net_ns",
    "mount_ns",
    "filesystem",
    "ipc_ns",
    "uts_ns",
    "cgroup_ns",
    "pid_ns",
    "private_proc",
    "rlimits",
    "environment",
    "unprivileged",
    "no_new_privs",
    "seccomp",
)
CGROUP_LAYERS: tuple[str, ...] = ("cgroup_memory", "cgroup_pids", "cgroup_cpu")
LAYERS: tuple[str, ...] = CHILD_LAYERS + CGROUP_LAYERS
# Reported but never required: root needs no user namespace, an unprivileged user does; the
# rlimit_* are what bound a run where a cgroup layer is off (a container's read-only cgroups):
# rlimit_as its memory (with RLIMIT_DATA and the sized tmpfs), rlimit_nproc its processes.
INFO_LAYERS: tuple[str, ...] = ("user_ns", "rlimit_as", "rlimit_nproc")
_PROBE_TIMEOUT_S = 30.0


class SandboxUnavailable(RuntimeError):
    """A layer that the operator requires (PLAYGROUND_REQUIRE_SANDBOX) is not available here."""


def required_layers(settings: Settings) -> list[str]:
    names = [n.strip() for n in settings.require_sandbox.split(",") if n.strip()]
    if "all" in names:
        names = [n for n in names if n != "all"] + list(LAYERS)
    return names


def _check_required(settings: Settings, active: dict[str, bool], among: tuple[str, ...]) -> None:
    missing = [
        name
        for name in required_layers(settings)
        if (name in among or name not in LAYERS) and not active.get(name, False)
    ]
    if missing:
        raise SandboxUnavailable(
            "required sandbox layer(s) unavailable on this host: "
            + ", ".join(dict.fromkeys(missing))
            + " (PLAYGROUND_REQUIRE_SANDBOX; see README 'Sandbox')"
        )


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


# -- probe ------------------------------------------------------------------------------------

_probed: dict[str, bool] | None = None


def probe(settings: Settings | None = None) -> dict[str, bool]:
    """Which layers this host provides: enter_child run for real in a throwaway process, and a
    cgroup created and removed. Cached. Raises SandboxUnavailable for a missing required layer."""
    global _probed
    if settings is None:
        from app.config import settings as configured

        settings = configured()
    if _probed is None:
        _probed = _probe_child(settings) | _probe_cgroup(settings)
    _check_required(settings, _probed, LAYERS)
    return dict(_probed)


def _probe_cgroup(settings: Settings) -> dict[str, bool]:
    # Supervisors start by probing: the right moment to clear what dead ones left behind.
    cgroups.sweep_stale()
    group = RunCgroup(f"probe-{os.getpid()}-{uuid.uuid4().hex[:8]}", settings)
    try:
        return group.layers()
    finally:
        group.remove()


def _probe_child(settings: Settings) -> dict[str, bool]:
    lenient = dataclasses.replace(settings, require_sandbox="")
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as scratch:
        os.chmod(scratch, 0o700)
        code = (
            "import json, sys; from pathlib import Path; from app.config import Settings; "
            "from app.runner.sandbox import enter_child; "
            "active = enter_child(Settings(**json.loads(sys.argv[1])), Path(sys.argv[2])); "
            "sys.stdout.write(json.dumps(active)); sys.stdout.flush()"
        )
        try:
            done = subprocess.run(
                [sys.executable, "-c", code, json.dumps(dataclasses.asdict(lenient)), scratch],
                capture_output=True,
                cwd=str(mounts.REPO_ROOT),
                env={**os.environ, "PYTHONPATH": str(mounts.REPO_ROOT)},
                timeout=_PROBE_TIMEOUT_S,
                check=False,
            )
            active = json.loads(done.stdout or b"{}")
        except (OSError, ValueError, subprocess.TimeoutExpired):
            active = {}
    return {name: bool(active.get(name, False)) for name in CHILD_LAYERS + INFO_LAYERS}


# -- enter_child ------------------------------------------------------------------------------


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
            _try(active, name, lambda flag=flag: libc.unshare(flag))
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
            _fork_into_pid_namespace()  # returns only in the worker, pid 2 of the namespace
            active["private_proc"] = True
        except _NoPrivateProc:
            active["private_proc"] = False
        with contextlib.suppress(OSError):
            os.setsid()

    os.chdir(workdir)  # the run's own tmpfs (or, without the filesystem layer, its scratch)
    # RLIMIT_NPROC counts per user namespace: in our own one it counts this run alone; as root
    # with a run uid of its own (app/runner/uids.py) it counts that uid, this run alone too.
    # As root dropping to the shared nobody it would count every run together: the pids cgroup
    # does it then.
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
    _check_required(settings, active, CHILD_LAYERS)
    return active


def _fork_into_pid_namespace() -> None:
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
        raise _NoPrivateProc


class _NoPrivateProc(Exception):
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
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
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
