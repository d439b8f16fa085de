"""Issue 9, items 2 and 8: the run's file system is deny-by-default and shows little of the host.

In a real forked, sandboxed child (tests/runner/sandbox/childprobe.py): the run's whole mount table
and every directory it can write are walked, as the run's own uid, and each writable place must be a
tmpfs of this run alone. The walk of the host that decides where runs get such a tmpfs is tested
on a planted tree.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.config import Settings
from app.runner.sandbox import mounts, privileges
from app.runner.sandbox.probing import probe
from tests.runner.sandbox.childprobe import run_in_child
from tests.runner.sandbox_expected import needs

IS_ROOT = os.geteuid() == 0
NAMESPACES = probe(Settings())["mount_ns"]
needs_namespaces = needs(NAMESPACES, "no namespaces on this host")
RUN_UID = Settings().run_uid_first + 7
# Writable mounts that are not a tmpfs of the run, allowed by their mount point. None today; a
# per-session compile-cache layer (issue 10) would be named here.
ALLOWED_WRITABLE_BINDS: frozenset[str] = frozenset()
# Not walked as directories: their mounts are checked in the mount table (fresh /proc, read-only
# /sys); walking sysfs would take most of a minute for nothing writable.
NOT_WALKED = ("/proc", "/sys")


def _host_devices() -> set[str]:
    """The superblocks (major:minor) of every mount of the host's namespace."""
    with open("/proc/self/mountinfo") as f:
        return {line.split()[2] for line in f}


def _device(st_dev: int) -> str:
    return f"{os.major(st_dev)}:{os.minor(st_dev)}"


def _look_around(host_devices: set[str]) -> dict[str, object]:
    """In the run: its mount table, and every directory it may write (walked as the run)."""
    private_tmpfs: dict[str, str] = {}  # device -> mount point
    problems: list[str] = []
    with open("/proc/self/mountinfo") as f:
        table = f.read().splitlines()
    for line in table:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        device, point, options = parts[2], mounts._unescape(parts[4]), parts[5].split(",")
        fstype = rest.split()[0]
        fresh = device not in host_devices
        if fstype == "tmpfs" and fresh:
            private_tmpfs.setdefault(device, point)
        elif "ro" in options or (fstype == "proc" and fresh) or point in ALLOWED_WRITABLE_BINDS:
            continue
        else:
            problems.append(f"writable mount {point} ({fstype}, {device}) is the host's")
    writable: list[str] = []
    pending = ["/"]
    while pending:
        directory = pending.pop()
        if directory in NOT_WALKED:
            continue
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            writable.append(directory)
            try:
                device = _device(os.stat(directory).st_dev)
            except OSError:
                continue
            if device not in private_tmpfs:
                problems.append(f"{directory} is writable and not on a tmpfs of the run")
        pending.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))
    return {"problems": problems, "writable": writable, "tmpfs": sorted(private_tmpfs.values()),
            "uid": os.getuid(), "table": table}


@needs_namespaces
def test_every_writable_place_is_a_tmpfs_of_the_run(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    host_lock = Path("/run/lock")
    before = sorted(os.listdir(host_lock)) if host_lock.is_dir() else None
    host_devices = _host_devices()

    def look() -> dict[str, object]:
        seen = _look_around(host_devices)
        try:  # the host's 1777 /run/lock: once shared by every run
            (host_lock / "planted-by-a-run").write_text("x")
            seen["planted"] = "yes"
        except OSError as exc:
            seen["planted"] = exc.strerror
        return seen

    outcome = run_in_child(look, Settings(), scratch, enter_sandbox=True)
    assert outcome.error is None, outcome.error
    got = outcome.value
    assert outcome.active["filesystem"], outcome.active
    assert got["problems"] == [], got["problems"]
    assert str(mounts.RUN_DIR) in got["writable"] and "/tmp" in got["writable"]
    assert {"/tmp", "/var/tmp", "/dev/shm", str(mounts.RUN_DIR)} <= set(got["tmpfs"])
    assert got["planted"] != "yes"  # /run is hidden: read-only and empty in the run's view
    if before is not None:
        assert sorted(os.listdir(host_lock)) == before


@needs_namespaces
def test_a_writable_bind_is_the_one_named_exception(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension point for one more writable mount (e.g. a per-session cache layer): a
    plan's writable_binds are read-write in the run, and the walk flags them unless named."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    layer = tmp_path / "layer"
    layer.mkdir(mode=0o777)
    os.chmod(layer, 0o777)
    target = Path("/tmp/session-layer")
    original = mounts.plan

    def plan_with_a_layer(*args: object, **kwargs: object) -> mounts.FilesystemPlan:
        planned = original(*args, **kwargs)  # type: ignore[arg-type]
        planned.writable_binds.append((layer, target))
        return planned

    monkeypatch.setattr(mounts, "plan", plan_with_a_layer)
    host_devices = _host_devices()

    def look() -> dict[str, object]:
        (target / "written-by-the-run").write_text("x")
        return _look_around(host_devices)

    outcome = run_in_child(look, Settings(), scratch, run_uid=RUN_UID)
    assert outcome.error is None, outcome.error
    assert (layer / "written-by-the-run").read_text() == "x"
    problems = outcome.value["problems"]
    assert problems and all(str(target) in problem for problem in problems), problems


@needs_namespaces
def test_host_paths_other_runs_and_the_supervisor_stay_out_of_sight(tmp_path: Path) -> None:
    """Item 8: /proc/self/cgroup shows "/" (a cgroup namespace), /sys/fs/cgroup is empty (no
    other run's cgroup), and the mount table names neither the state dir's runs nor cgroups."""
    state = tmp_path / "state"
    scratch = state / "runs-424242" / "run-9"
    scratch.mkdir(parents=True)
    settings = Settings(state_dir=str(state))

    def look() -> dict[str, object]:
        with open("/proc/self/mountinfo") as f:
            table = f.read()
        with open("/proc/self/cgroup") as f:
            cgroup = f.read().splitlines()
        return {"table": table, "cgroup": cgroup, "cgroups": os.listdir("/sys/fs/cgroup"),
                "cwd": os.getcwd()}

    outcome = run_in_child(look, settings, scratch, run_uid=RUN_UID)
    assert outcome.error is None, outcome.error
    got = outcome.value
    assert outcome.active["cgroup_ns"] and outcome.active["filesystem"]
    assert all(line.rsplit(":", 1)[1] == "/" for line in got["cgroup"]), got["cgroup"]
    assert got["cgroups"] == []
    assert "424242" not in got["table"] and "424242" not in got["cwd"]
    assert got["cwd"] == str(mounts.RUN_DIR)
    if IS_ROOT:  # a user namespace locks the host's mounts together: they stay listed
        assert " cgroup " not in got["table"] and " cgroup2 " not in got["table"]


@needs_namespaces
def test_the_oom_killer_takes_a_run_first_and_it_cannot_say_otherwise(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)

    def look() -> dict[str, object]:
        with open("/proc/self/oom_score_adj") as f:
            score = int(f.read())
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("0")
            lowered = "lowered"
        except OSError as exc:
            lowered = type(exc).__name__
        return {"score": score, "lowered": lowered}

    outcome = run_in_child(look, Settings(), scratch, run_uid=RUN_UID)
    assert outcome.error is None, outcome.error
    assert outcome.active["oom_score_adj"]
    assert outcome.value["score"] == privileges.OOM_SCORE_ADJ
    if IS_ROOT:  # set while privileged: the kernel keeps it as the minimum
        assert outcome.value["lowered"] == "PermissionError"


def test_the_walk_finds_what_a_run_could_write_and_only_where_it_can_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_uid = 400_123
    root = tmp_path / "var"
    layout = {
        "cache": 0o755, "cache/sticky": 0o1777, "cache/sticky/inside": 0o777,
        "lib": 0o755, "lib/sessions": 0o1733, "lib/owned": 0o755, "lib/group": 0o775,
        "closed": 0o700, "closed/sticky": 0o1777, "plain": 0o755,
    }
    for name, mode in layout.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        os.chmod(root / name, mode)
    if IS_ROOT:
        os.chown(root / "lib" / "owned", run_uid, 0)
        os.chown(root / "lib" / "group", 0, run_uid)
    os.chmod(tmp_path, 0o755)
    monkeypatch.setattr(mounts, "WALK_ROOTS", (str(root),))
    mounts.writable_host_dirs.cache_clear()
    try:
        found = mounts.writable_host_dirs(frozenset({run_uid}))
    finally:
        mounts.writable_host_dirs.cache_clear()
    expected = {root / "cache" / "sticky", root / "lib" / "sessions"}
    if IS_ROOT:
        expected |= {root / "lib" / "owned", root / "lib" / "group"}
    assert set(found) == expected  # not below a 0700 dir, not twice below a covered one
    assert all(stat.S_ISDIR(p.lstat().st_mode) for p in found)
