"""The per-run cgroup: limits, counters, and a kill that reaches escaped daemons."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import pytest

from app.config import Settings
from app.runner.sandbox import cgroups
from app.runner.sandbox.cgroups import RunCgroup
from tests.runner.sandbox.childprobe import run_in_child
from tests.runner.sandbox_expected import missing


def _cgroup(settings: Settings) -> RunCgroup:
    group = RunCgroup("test-" + uuid.uuid4().hex[:12], settings)
    if not group.available:
        group.remove()
        missing("no writable memory+pids cgroup on this host")
    return group


def test_counts_peak_memory_and_cpu(tmp_path: Path) -> None:
    group = _cgroup(Settings())
    try:
        def work() -> int:
            data = bytearray(120 << 20)  # touched: zero-filled pages are written
            for i in range(0, len(data), 4096):
                data[i] = 1
            return len(data)

        outcome = run_in_child(work, Settings(), tmp_path, group)
        assert outcome.error is None
        peak = group.peak_memory_mb()
        assert peak is not None and peak >= 120
        cpu = group.cpu_seconds()
        assert cpu is not None and cpu > 0
        assert not group.oom_killed()
    finally:
        group.remove()


def test_memory_limit_oom_kills_and_is_reported(tmp_path: Path) -> None:
    # RLIMIT_DATA high enough that the cgroup limit, not malloc, stops the run.
    settings = Settings(memory_mb=256)
    group = _cgroup(settings)
    try:
        def fill_tmpfs_free_memory() -> str:
            import mmap

            area = mmap.mmap(-1, 600 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
            for i in range(0, len(area), 4096):
                area[i] = 1
            return "survived"

        outcome = run_in_child(fill_tmpfs_free_memory, settings, tmp_path, group)
        assert outcome.signal == 9
        assert group.oom_killed()
    finally:
        group.remove()


def test_kill_reaches_a_double_forked_setsid_daemon(tmp_path: Path) -> None:
    group = _cgroup(Settings())
    try:
        def spawn_daemon() -> int:
            read_fd, write_fd = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.write(write_fd, str(os.getpid()).encode())
                    time.sleep(600)
                os._exit(0)
            return int(os.read(read_fd, 32))

        # No sandbox (no pid namespace) here, so that the daemon really outlives the child.
        outcome = run_in_child(spawn_daemon, Settings(), tmp_path, group, enter_sandbox=False)
        daemon = psutil.Process(outcome.value)
        assert daemon.is_running() and daemon.pid in group.pids()
        group.kill()
        daemon.wait(timeout=5)
        assert not group.pids()
    finally:
        group.remove()


def test_pids_limit_stops_a_fork_bomb(tmp_path: Path) -> None:
    settings = Settings(max_pids=16)
    group = _cgroup(settings)
    try:
        def fork_bomb() -> str:
            children = 0
            try:
                for _ in range(200):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    children += 1
            except BlockingIOError:
                return f"refused after {children}"
            return "not refused"

        outcome = run_in_child(fork_bomb, settings, tmp_path, group)
        assert str(outcome.value).startswith("refused")
        assert group.pids_limit_hit()
    finally:
        group.remove()
        assert not group.pids()


def test_remove_deletes_the_directories() -> None:
    group = _cgroup(Settings())
    dirs = list(group.dirs.values())
    group.remove()
    assert dirs and not any(d.exists() for d in dirs)
    assert not group.available
    group.attach(os.getpid())  # a no-op now, not an error
    assert group.peak_memory_mb() is None


def test_v2_files_written_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cgroup v2 cannot run on this v1 host: check the files we write and parse on a copy of
    the v2 layout (plain files; the kernel's side is not exercised here)."""
    root = tmp_path / "cgroup"
    own = root / "system.slice" / "app.service"
    own.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.procs").write_text("")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups, "_own_paths", lambda: {"": "/system.slice/app.service"})
    settings = Settings(memory_mb=512, max_pids=32)
    group = RunCgroup("run-v2", settings)
    run_dir = own / cgroups.GROUP_NAME / "run-v2"
    assert group.v2 and group.available
    assert (run_dir / "memory.max").read_text() == str(512 << 20)
    assert (run_dir / "pids.max").read_text() == "32"
    assert (run_dir / "cpu.max").read_text() == "100000 100000"
    assert "+memory" in (own / "cgroup.subtree_control").read_text()
    (run_dir / "memory.peak").write_text(str(300 << 20))
    (run_dir / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (run_dir / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    (run_dir / "pids.events").write_text("max 3\n")
    assert group.peak_memory_mb() == 300
    assert group.oom_killed() and group.pids_limit_hit()
    assert group.cpu_seconds() == 2.5


def test_sweep_removes_groups_of_dead_supervisors_only(tmp_path: Path) -> None:
    dead_pid = _dead_pid()
    stale = _cgroup_named(f"{dead_pid}-7")
    live = _cgroup_named(f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        stale.attach(sleeper.pid)
        assert sleeper.pid in stale.pids()
        assert cgroups.sweep_stale() >= 1
        assert sleeper.wait(timeout=5) == -9  # the orphaned run was killed
        assert not any(d.exists() for d in stale.dirs.values())
        assert all(d.exists() for d in live.dirs.values())
    finally:
        sleeper.kill()
        live.remove()
        stale.remove()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    assert not Path(f"/proc/{process.pid}").exists()
    return process.pid


def _cgroup_named(run_id: str) -> RunCgroup:
    group = RunCgroup(run_id, Settings())
    if not group.available:
        group.remove()
        missing("no writable memory+pids cgroup on this host")
    return group
