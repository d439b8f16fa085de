"""The run's view of the filesystem, built inside its private mount namespace: deny by default.

Every mount the run inherits from the host is made read-only first, in one call (mount_setattr
with AT_RECURSIVE), so no host path stays writable, whatever its mode (/run/lock was 1777 and
the host's: a run could leave files there for the next user and fill the host's disk). Then the
only writable places are fresh tmpfs of this run alone, each `size_mb` at most:

    writable   the run's directory (cwd, HOME, TMPDIR) at RUN_DIR, owned by the run's uid;
               /tmp, /var/tmp, /dev/shm; and every directory a run could write on the host
               (mode 1777, or writable by a run uid), found by walking the places hosts keep
               state (WALK_ROOTS) once per zygote: programs that expect them writable still work
    hidden     an empty read-only tmpfs on top: /root, /home, /sys/fs/cgroup (other runs'
               cgroups), /run (the host services' sockets and runtime state), the checkout
               and its parent (app source, config, .git), the state dir (other runs' scratch,
               the zygote's socket), the data dir and the rooms database's folder (people's
               code, names, tokens); host mounts below them are detached where the kernel
               allows, so they leave the run's mount table too
    kept       bound back read-only where they were: the venv, the interpreter, the worker
               package the child imports after the sandbox, the compilation cache (runs read it;
               only the trusted warm-up writes it)

Another writable mount (e.g. a per-session cache layer) is one more entry of `writable_binds`
(host source, target): its source is opened before anything is hidden, bound after the run's
tmpfs and made read-write again (the bind copies the read-only flag). tests/runner/sandbox/
test_filesystem.py walks the run's whole view; ALLOWED_WRITABLE_BINDS there names such a mount.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.runner.sandbox import libc

REPO_ROOT = Path(__file__).resolve().parents[3]
# Relative to REPO_ROOT: what the child still imports after the sandbox is in place.
KEEP_IN_REPO = ("app/__init__.py", "app/protocol.py", "app/worker")
# /run: where hosts keep their services' socket files (Redis, databases, the container runtime);
# the seccomp filter refuses connect anyway, this keeps them out of sight where it is missing.
ALWAYS_HIDDEN = ("/root", "/home", "/sys/fs/cgroup", "/run")
# The checkout's parent is hidden too (sibling checkouts, shared notes), unless it is one of these.
SYSTEM_DIRS = frozenset({"/", "/usr", "/usr/local", "/opt", "/srv", "/var", "/var/lib", "/mnt"})
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
# The run's own directory, inside its fresh /tmp: a fixed name, so neither the host's state dir
# nor the supervisor's pid (both in the scratch path on the host) shows in the run's view.
RUN_DIR = Path("/tmp/sandbox")
# Where hosts keep writable places; everything else is read-only whether walked or not.
WALK_ROOTS = ("/run", "/var", "/dev", "/srv", "/opt", "/mnt", "/media")
WALK_MAX_DIRS = 20_000
WALK_MAX_S = 2.0
_NOSUID_NODEV = libc.MS_NOSUID | libc.MS_NODEV
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass
class FilesystemPlan:
    scratch: Path  # the host directory the run's tmpfs replaces (its mount point outside)
    size_mb: int
    uid: int
    gid: int
    hidden: list[Path] = field(default_factory=list)
    kept_read_only: list[Path] = field(default_factory=list)
    private_tmp: list[Path] = field(default_factory=list)  # fresh tmpfs, mode 1777
    # (host source, target in the run's view): read-write binds of a host directory, applied
    # last. Empty today: every writable place is a tmpfs of the run.
    writable_binds: list[tuple[Path, Path]] = field(default_factory=list)
    run_dir: Path = RUN_DIR


def plan(
    scratch: Path, size_mb: int, uid: int, gid: int, state_dir: Path | None, cache_dir: Path | None,
    private: Sequence[Path] = (), run_uids: Iterable[int] = (),
) -> FilesystemPlan:
    result = FilesystemPlan(scratch.resolve(), size_mb, uid, gid)
    hidden = [Path(p) for p in ALWAYS_HIDDEN] + [REPO_ROOT]
    if str(REPO_ROOT.parent) not in SYSTEM_DIRS:
        hidden.append(REPO_ROOT.parent)
    if state_dir is not None:
        hidden.append(state_dir)
    # A private folder that is a system dir itself cannot be hidden whole (the store refuses one).
    hidden += [p for p in private if str(p.resolve()) not in SYSTEM_DIRS | set(PRIVATE_TMP)]
    result.hidden = [p.resolve() for p in hidden if _is(p, Path.is_dir)]
    fixed = [Path(p) for p in PRIVATE_TMP if _is(Path(p), Path.is_dir)]
    # The same key as the zygote's walk (sandbox.prepare), so children reuse its answer.
    walked = [p for p in writable_host_dirs(frozenset(run_uids) or frozenset({uid}))
              if not _under_any(p, result.hidden)]
    result.private_tmp = _outermost(fixed + walked)
    # The interpreter may live under a hidden dir too (pyenv under /root, a venv in the checkout).
    interpreter = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    keep = [REPO_ROOT / rel for rel in KEEP_IN_REPO] + [Path(p) for p in sorted(interpreter)]
    if cache_dir is not None:
        keep.append(cache_dir)
    kept = {p.resolve() for p in keep if _is(p, Path.exists)}
    covering = result.hidden + result.private_tmp
    # Parents before children, so that a later bind never covers an earlier one.
    result.kept_read_only = sorted(
        (p for p in kept if _under_any(p, covering)), key=lambda p: (len(p.parts), str(p))
    )
    if not result.private_tmp or RUN_DIR.parent not in result.private_tmp:
        result.run_dir = result.scratch  # no fresh /tmp to put it in: where it is on the host
    return result


def _is(path: Path, test: Callable[[Path], bool]) -> bool:
    """The test, or False where we may not even look (a 0700 parent owned by someone else)."""
    try:
        return test(path)
    except OSError:
        return False


def _under_any(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _outermost(paths: list[Path]) -> list[Path]:
    """Drop duplicates and paths inside another one of the list (its tmpfs covers them)."""
    unique = sorted(set(paths), key=lambda p: (len(p.parts), str(p)))
    kept: list[Path] = []
    for path in unique:
        if not _under_any(path, kept):
            kept.append(path)
    return kept


# -- the host's writable places ----------------------------------------------------------------


@functools.cache
def writable_host_dirs(run_uids: frozenset[int]) -> tuple[Path, ...]:
    """Directories under WALK_ROOTS a run could write: mode o+w (1777 and the like), or owned
    (user or group) by a run uid with the write bit. Only directories a run could reach are
    descended into; bounded by WALK_MAX_DIRS and WALK_MAX_S (beyond, the rest stays read-only,
    which is safe: this list only decides where a run gets a private tmpfs instead of EROFS).
    Cached: the zygote walks once (prepare) and its children inherit the answer."""
    found: list[Path] = []
    pending = [Path(root) for root in WALK_ROOTS]
    deadline = time.monotonic() + WALK_MAX_S
    visited = 0
    while pending and visited < WALK_MAX_DIRS and time.monotonic() < deadline:
        directory = pending.pop()
        try:
            info = directory.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        visited += 1
        if _may(info, run_uids, 0o2):
            found.append(directory)
            continue  # its tmpfs covers everything below
        if not _may(info, run_uids, 0o1):
            continue  # a run cannot even reach what is below
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            pending.extend(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
    return tuple(sorted(found))


def _may(info: os.stat_result, run_uids: frozenset[int], bit: int) -> bool:
    """Whether an unprivileged run (a uid of run_uids, no supplementary groups) has `bit`
    (0o2 write, 0o1 search) on a directory with this stat."""
    if info.st_uid in run_uids:
        return bool(info.st_mode & (bit << 6))
    if info.st_gid in run_uids:
        return bool(info.st_mode & (bit << 3))
    return bool(info.st_mode & bit)


# -- building the view --------------------------------------------------------------------------


def _make_mountpoint(target: Path, is_dir: bool) -> None:
    """Create the path inside a hiding tmpfs; every level traversable, whatever the umask."""
    directory = target if is_dir else target.parent
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for level in reversed(missing):
        level.mkdir(mode=0o755)
        os.chmod(level, 0o755)
    if not is_dir:
        target.touch(mode=0o644, exist_ok=True)


def _tmpfs(target: Path, options: str) -> None:
    libc.mount("tmpfs", str(target), "tmpfs", _NOSUID_NODEV, options)


def apply(fs: FilesystemPlan) -> Path:
    """Build the view; the caller must already be alone in a new mount namespace. Returns the
    run's directory as the run sees it (its cwd)."""
    # Nothing we mount may propagate back to the host's namespace.
    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE, None)
    # Open what we keep before hiding its parents; bind it back through /proc/self/fd.
    kept = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC), p.is_dir()) for p in fs.kept_read_only]
    # The same for a writable bind's source, which a fresh /tmp or a hidden dir may cover.
    layers = [(os.open(source, os.O_PATH | os.O_CLOEXEC), target)
              for source, target in fs.writable_binds]
    try:
        _detach_hidden_mounts(fs.hidden, fs.kept_read_only)
        _read_only_everywhere()
        size = f"size={fs.size_mb}m"
        for target in fs.private_tmp:
            _tmpfs(target, f"{size},mode=1777")
        # Parents first, so a state dir under /tmp lands on the fresh /tmp.
        hidden = sorted(fs.hidden, key=lambda p: len(p.parts))
        for target in hidden:
            target.mkdir(parents=True, exist_ok=True)
            _tmpfs(target, "size=1m,mode=0755")
        for path, fd, is_dir in kept:
            _make_mountpoint(path, is_dir)
            libc.mount(f"/proc/self/fd/{fd}", str(path), None, libc.MS_BIND | libc.MS_REC, None)
            libc.mount("none", str(path), None, _read_only_remount(path), None)
        fs.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _tmpfs(fs.run_dir, f"{size},mode=0700,uid={fs.uid},gid={fs.gid}")
        for fd, target in layers:
            _make_mountpoint(target, True)
            libc.mount(f"/proc/self/fd/{fd}", str(target), None, libc.MS_BIND, None)
            # The bind copies the source mount's flags, read-only since _read_only_everywhere.
            libc.mount("none", str(target), None,
                       libc.MS_REMOUNT | libc.MS_BIND | _NOSUID_NODEV, None)
        for target in hidden:
            libc.mount("none", str(target), None, _read_only_remount(target), None)
    finally:
        for fd in [fd for _, fd, _ in kept] + [fd for fd, _ in layers]:
            with contextlib.suppress(OSError):
                os.close(fd)
    return fs.run_dir


def mount_points() -> list[tuple[str, str, str]]:
    """(mount point, file system type, per-mount options) of every mount this process sees."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            before, _, after = line.partition(" - ")
            fields = before.split()
            found.append((_unescape(fields[4]), after.split()[0], fields[5]))
    return found


def _unescape(path: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), path)


def _detach_hidden_mounts(hidden: list[Path], kept: list[Path]) -> None:
    """Unmount the host's mounts at or below a hidden path, so they leave the run's mount table,
    unless something kept lives in them: the outermost ones only (a lazy unmount takes the
    mounts below along, and each unmount waits for an RCU grace period). Best effort: in a user
    namespace the kernel locks mounts inherited from the host together (EINVAL); the hiding
    tmpfs still covers them."""
    points = [Path(p) for p, _, _ in mount_points()]
    candidates = [p for p in points
                  if _under_any(p, hidden) and not any(_under_any(k, [p]) for k in kept)]
    for point in _outermost(candidates):
        with contextlib.suppress(OSError):
            libc.umount(str(point))


def _read_only_everywhere() -> None:
    """Every mount of the namespace read-only: one recursive mount_setattr (Linux 5.12+), else
    a read-only remount of each mount point, top down."""
    try:
        libc.make_tree_read_only("/")
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EPERM, errno.EINVAL):
            raise
    for point, _, options in mount_points():
        if "ro" in options.split(","):
            continue
        libc.mount("none", point, None, _read_only_remount(Path(point)), None)


def _read_only_remount(path: Path) -> int:
    """Flags for a read-only remount that keeps the flags a user namespace may not clear."""
    flags = os.statvfs(path).f_flag
    # ST_NOEXEC, ST_NOATIME and ST_NODIRATIME equal their MS_ twins; ST_RELATIME does not.
    kept = flags & (os.ST_NOEXEC | os.ST_NOATIME | os.ST_NODIRATIME)
    if flags & os.ST_RELATIME:
        kept |= libc.MS_RELATIME
    return libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | _NOSUID_NODEV | kept


def mount_private_proc() -> bool:
    """A /proc that shows only the run's pid namespace; False where the host forbids it."""
    try:
        libc.mount("proc", "/proc", "proc", _NOSUID_NODEV | libc.MS_NOEXEC, None)
    except OSError:
        return False
    return True
