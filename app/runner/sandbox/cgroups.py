"""One cgroup per run: memory, pids and cpu limits, counters, and a kill that reaches everything.

Killing the cgroup is the only thing that reliably killed a double-forked, setsid daemon on this
host (killpg and psutil's children did not). cgroup v1 (one hierarchy per controller, as on this
Debian 12 host) and v2 (unified) are both handled; every method is a no-op when the host gives us
no writable cgroup, and `available` says so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from pathlib import Path

from app.config import Settings

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_NAME = "jax-playground"
V2_HOST_LEAF = "jax-playground-host"  # v2: processes of our own cgroup move here (no-internal rule)
_RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CPU_PERIOD_US = 100_000


def _own_paths() -> dict[str, str]:
    """controller -> this process's cgroup path ('' key: the v2 unified path)."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for ctl in controllers.split(",") if controllers else [""]:
                paths[ctl] = path
    return paths


def in_run_group(controller: str) -> bool:
    """Whether the calling process sits in a run cgroup of ours for this controller (v1), or in
    one at all (v2, where every controller shares the path): its limits then hold the process."""
    try:
        own = _own_paths()
    except OSError:
        return False
    path = own.get(controller, own.get("", "")) if not _is_v2() else own.get("", "")
    return f"/{GROUP_NAME}/" in path + "/" and not path.endswith(f"/{GROUP_NAME}")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _keyed(text: str | None, key: str) -> int | None:
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().lstrip("-").isdigit():
            return int(value)
    return None


def _is_v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def _v1_parent(controller: str, own: dict[str, str]) -> Path | None:
    mount = CGROUP_ROOT / controller
    if controller not in own or not (mount / "cgroup.procs").exists():
        return None
    parent = mount / own[controller].lstrip("/") / GROUP_NAME
    try:
        parent.mkdir(exist_ok=True)
    except OSError:
        return None
    return parent if os.access(parent, os.W_OK) else None


def _v2_parent(own: dict[str, str]) -> Path | None:
    base = CGROUP_ROOT / own.get("", "/").lstrip("/")
    wanted = "+memory +pids +cpu"
    try:
        try:
            _write(base / "cgroup.subtree_control", wanted)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            # "No internal processes": move our cgroup's own processes into a leaf first.
            leaf = base / V2_HOST_LEAF
            leaf.mkdir(exist_ok=True)
            for pid in (_read(base / "cgroup.procs") or "").split():
                with contextlib.suppress(OSError):
                    _write(leaf / "cgroup.procs", pid)
            _write(base / "cgroup.subtree_control", wanted)
        parent = base / GROUP_NAME
        parent.mkdir(exist_ok=True)
        _write(parent / "cgroup.subtree_control", wanted)
    except OSError:
        return None
    return parent


class RunCgroup:
    """The cgroup(s) of one run. Create in the supervisor, attach the child before it runs code."""

    def __init__(self, run_id: str, settings: Settings) -> None:
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r}: letters, digits, '_', '.', '-' only")
        self.run_id = run_id
        self.settings = settings
        self.v2 = False
        self.dirs: dict[str, Path] = {}  # controller -> this run's directory
        try:
            self._create()
        except OSError:
            self.remove()
            self.dirs = {}

    @classmethod
    def adopt(cls, run_dirs: list[Path]) -> RunCgroup:
        """A handle on existing run cgroup directories (e.g. a dead supervisor's), to remove."""
        group = cls.__new__(cls)
        group.run_id = run_dirs[0].name
        group.settings = Settings()
        group.v2 = _is_v2()
        if group.v2:
            group.dirs = dict.fromkeys(("memory", "pids", "cpu"), run_dirs[0])
        else:
            group.dirs = {d.relative_to(CGROUP_ROOT).parts[0]: d for d in run_dirs}
        return group

    # -- creation -----------------------------------------------------------------------------

    def _create(self) -> None:
        own = _own_paths()
        memory_bytes = str(self.settings.memory_mb << 20)
        if _is_v2():
            parent = _v2_parent(own)
            if parent is None:
                return
            self.v2 = True
            run_dir = parent / self.run_id
            run_dir.mkdir()
            for ctl in ("memory", "pids", "cpu"):
                self.dirs[ctl] = run_dir
            _write(run_dir / "memory.max", memory_bytes)
            with contextlib.suppress(OSError):
                _write(run_dir / "memory.swap.max", "0")
            with contextlib.suppress(OSError):  # one process dies at the limit -> kill them all
                _write(run_dir / "memory.oom.group", "1")
            _write(run_dir / "pids.max", str(self.settings.max_pids))
            _write(run_dir / "cpu.max", f"{self._quota_us()} {_CPU_PERIOD_US}")
            return
        for ctl in ("memory", "pids", "cpu", "cpuacct", "freezer"):
            parent = _v1_parent(ctl, own)
            if parent is None:
                continue
            run_dir = parent / self.run_id
            try:
                run_dir.mkdir()
                self._limit_v1(ctl, run_dir, memory_bytes)
            except OSError:
                with contextlib.suppress(OSError):
                    run_dir.rmdir()
                continue
            self.dirs[ctl] = run_dir

    def _limit_v1(self, ctl: str, run_dir: Path, memory_bytes: str) -> None:
        if ctl == "memory":
            _write(run_dir / "memory.limit_in_bytes", memory_bytes)
            with contextlib.suppress(OSError):  # absent without swap accounting
                _write(run_dir / "memory.memsw.limit_in_bytes", memory_bytes)
        elif ctl == "pids":
            _write(run_dir / "pids.max", str(self.settings.max_pids))
        elif ctl == "cpu":
            # The run's share of cores: a busy loop cannot starve the server or the other runs.
            _write(run_dir / "cpu.cfs_period_us", str(_CPU_PERIOD_US))
            _write(run_dir / "cpu.cfs_quota_us", str(self._quota_us()))

    def _quota_us(self) -> int:
        """CPU time per period: `cores_per_run` cores (app/runner/policy.py), at least one."""
        return _CPU_PERIOD_US * max(1, self.settings.cores_per_run)

    # -- state --------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return "memory" in self.dirs and "pids" in self.dirs

    def layers(self) -> dict[str, bool]:
        return {
            "cgroup_memory": "memory" in self.dirs,
            "cgroup_pids": "pids" in self.dirs,
            "cgroup_cpu": "cpu" in self.dirs,
        }

    def pids(self) -> set[int]:
        found: set[int] = set()
        for run_dir in set(self.dirs.values()):
            found.update(int(p) for p in (_read(run_dir / "cgroup.procs") or "").split())
        return found

    # -- actions ------------------------------------------------------------------------------

    def attach(self, pid: int) -> None:
        """Move pid and all its descendants (e.g. a pid namespace's init) into the run's cgroup."""
        if not self.dirs:
            return None
        for target in [pid, *_descendants(pid)]:
            for run_dir in set(self.dirs.values()):
                with contextlib.suppress(ProcessLookupError, OSError):
                    _write(run_dir / "cgroup.procs", str(target))
        return None

    def kill(self) -> None:
        """SIGKILL every process of the run, new forks included; returns when none is left."""
        if not self.dirs:
            return None
        if self.v2 and (self.dirs["memory"] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self.dirs["memory"] / "cgroup.kill", "1")
        freezer = self.dirs.get("freezer")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            # Frozen processes cannot fork between our read of the list and the kill.
            if freezer is not None:
                with contextlib.suppress(OSError):
                    _write(freezer / "freezer.state", "FROZEN")
            pids = self.pids()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if freezer is not None:
                with contextlib.suppress(OSError):
                    _write(freezer / "freezer.state", "THAWED")
            if not pids:
                return None
            time.sleep(0.005)
        return None

    def peak_memory_mb(self) -> float | None:
        run_dir = self.dirs.get("memory")
        if run_dir is None:
            return None
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        text = _read(run_dir / name)
        return int(text) / (1 << 20) if text and text.strip().isdigit() else None

    def memory_mb(self) -> float | None:
        """What the run's processes hold now (what a waiting child adds to the host's memory)."""
        run_dir = self.dirs.get("memory")
        if run_dir is None:
            return None
        text = _read(run_dir / ("memory.current" if self.v2 else "memory.usage_in_bytes"))
        return int(text) / (1 << 20) if text and text.strip().isdigit() else None

    def oom_killed(self) -> bool:
        run_dir = self.dirs.get("memory")
        if run_dir is None:
            return False
        name = "memory.events" if self.v2 else "memory.oom_control"
        return (_keyed(_read(run_dir / name), "oom_kill") or 0) > 0

    def pids_limit_hit(self) -> bool:
        """True when a fork or thread creation failed at pids.max (fork and thread bombs)."""
        run_dir = self.dirs.get("pids")
        if run_dir is None:
            return False
        return (_keyed(_read(run_dir / "pids.events"), "max") or 0) > 0

    def cpu_seconds(self) -> float | None:
        if self.v2:
            usec = _keyed(_read(self.dirs["cpu"] / "cpu.stat"), "usage_usec")
            return None if usec is None else usec / 1e6
        run_dir = self.dirs.get("cpuacct")
        text = _read(run_dir / "cpuacct.usage") if run_dir else None
        return int(text) / 1e9 if text and text.strip().isdigit() else None

    def remove(self) -> None:
        """Kill what is left and delete the run's directories (retrying while tasks exit)."""
        self.kill()
        for run_dir in set(self.dirs.values()):
            for _ in range(200):
                try:
                    run_dir.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)
        self.dirs = {}
        return None


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = _read(task / "children") or ""
            for child in children.split():
                found.append(int(child))
                pending.append(int(child))
    return found


_OWNER_PID = re.compile(r"(?:probe-)?(\d+)-")


def sweep_stale() -> int:
    """Remove run cgroups left by supervisors that died (named "<supervisor pid>-..."): their
    processes are killed first. Returns how many cgroups were removed; a no-op without cgroups."""
    removed = 0
    try:
        own = _own_paths()
    except OSError:
        return 0
    if _is_v2():
        parents = [CGROUP_ROOT / own.get("", "/").lstrip("/") / GROUP_NAME]
    else:
        parents = [
            CGROUP_ROOT / ctl / own.get(ctl, "/").lstrip("/") / GROUP_NAME
            for ctl in ("memory", "pids", "cpu", "cpuacct", "freezer")
        ]
    stale: dict[str, list[Path]] = {}
    for parent in parents:
        if not parent.is_dir():
            continue
        for run_dir in parent.iterdir():
            match = _OWNER_PID.match(run_dir.name)
            if run_dir.is_dir() and match and not Path(f"/proc/{match.group(1)}").exists():
                stale.setdefault(run_dir.name, []).append(run_dir)
    for dirs in stale.values():
        RunCgroup.adopt(dirs).remove()
        removed += 1
    return removed
