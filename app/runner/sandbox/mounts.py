"""The run's view of the filesystem, built inside its private mount namespace.

Hidden (an empty read-only tmpfs on top): /root, /home, the checkout and its parent (app source,
config, .git), the state dir (other runs' scratch, the zygote's socket), the data dir and the
rooms database's folder (people's code, names, tokens). Put back read-only where
they were: the venv, the worker package the child imports after the sandbox, the compilation cache
(runs read it; only the trusted warm-up writes it). Fresh, size-capped tmpfs: the run's scratch
(its cwd and HOME), /tmp, /var/tmp, /dev/shm. Everything else (system libraries, /usr) stays
readable and is not writable by the unprivileged uid the run ends up with.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.runner.sandbox import libc

REPO_ROOT = Path(__file__).resolve().parents[3]
# Relative to REPO_ROOT: what the child still imports after the sandbox is in place.
KEEP_IN_REPO = ("app/__init__.py", "app/protocol.py", "app/worker")
ALWAYS_HIDDEN = ("/root", "/home")
# The checkout's parent is hidden too (sibling checkouts, shared notes), unless it is one of these.
SYSTEM_DIRS = frozenset({"/", "/usr", "/usr/local", "/opt", "/srv", "/var", "/var/lib", "/mnt"})
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
_NOSUID_NODEV = libc.MS_NOSUID | libc.MS_NODEV


@dataclass
class FilesystemPlan:
    scratch: Path
    size_mb: int
    uid: int
    gid: int
    hidden: list[Path] = field(default_factory=list)
    kept_read_only: list[Path] = field(default_factory=list)
    private_tmp: list[Path] = field(default_factory=list)


def plan(
    scratch: Path, size_mb: int, uid: int, gid: int, state_dir: Path | None, cache_dir: Path | None,
    private: Sequence[Path] = (),
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
    # The interpreter may live under a hidden dir too (pyenv under /root, a venv in the checkout).
    interpreter = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    keep = [REPO_ROOT / rel for rel in KEEP_IN_REPO] + [Path(p) for p in sorted(interpreter)]
    if cache_dir is not None:
        keep.append(cache_dir)
    kept = {p.resolve() for p in keep if _is(p, Path.exists)}
    result.private_tmp = [Path(p) for p in PRIVATE_TMP if _is(Path(p), Path.is_dir)]
    # Parents before children, so that a later bind never covers an earlier one. A fresh /tmp
    # hides what is under it too (a compilation cache under /tmp, outside the state dir).
    covered = result.hidden + [p.resolve() for p in result.private_tmp]
    result.kept_read_only = sorted(
        (p for p in kept if _under_any(p, covered)), key=lambda p: (len(p.parts), str(p))
    )
    return result


def _is(path: Path, test: Callable[[Path], bool]) -> bool:
    """The test, or False where we may not even look (a 0700 parent owned by someone else)."""
    try:
        return test(path)
    except OSError:
        return False


def _under_any(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


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


def apply(fs: FilesystemPlan) -> None:
    """Build the view; the caller must already be alone in a new mount namespace."""
    # Nothing we mount may propagate back to the host's namespace.
    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE, None)
    # Open what we keep before hiding its parents; bind it back through /proc/self/fd.
    kept = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC), p.is_dir()) for p in fs.kept_read_only]
    try:
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
        fs.scratch.mkdir(parents=True, exist_ok=True)
        _tmpfs(fs.scratch, f"{size},mode=0700,uid={fs.uid},gid={fs.gid}")
        for target in hidden:
            libc.mount("none", str(target), None, _read_only_remount(target), None)
    finally:
        for _, fd, _ in kept:
            with contextlib.suppress(OSError):
                os.close(fd)


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
