"""Remove a tree that a run built, with no recursion and at most one directory open at a time.

Why: what a run leaves in its session's cache layer is hostile input to the supervisor. A tree
1,500 levels deep made `shutil.rmtree` (recursive in Python) raise RecursionError out of the
supervisor; holding one descriptor per level would run out of descriptors instead. So each
directory met below the entry is first moved up into a staging directory of ours at the top of
the layer (a rename on the same file system: no copy, nothing followed), and emptied from there:
depth never matters, names are passed back to the kernel as the bytes they are, and links are
unlinked, never followed (every call is relative to a descriptor opened with O_NOFOLLOW).

Bounded: every step removes or moves one inode, and the layer holds a kernel-capped number of
inodes; `budget` caps the steps anyway, and the caller drops the whole layer (one close) when it
runs out or anything else goes wrong.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# A run's scratch on the host (where no mount namespace gave it a tmpfs) has no inode cap of its
# own: beyond this many steps the rest is left (and logged by the caller).
HOST_BUDGET = 2_000_000


class BudgetExhausted(Exception):
    """More steps than allowed: the caller drops the whole layer instead."""


def remove(root_fd: int, name: str, budget: int) -> int:
    """Remove `name` (file, link, or a directory tree of any depth) from the directory root_fd;
    returns the steps it took. Raises OSError where the kernel refuses, BudgetExhausted past
    `budget` steps."""
    info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=root_fd)
        return 1
    staging = _make_staging(root_fd)
    try:
        staging_fd = os.open(staging, DIR_FLAGS, dir_fd=root_fd)
    except BaseException:
        _rmdir_quietly(root_fd, staging)
        raise
    steps = 1
    try:
        _let_us_in(root_fd, name)
        os.rename(name, "0", src_dir_fd=root_fd, dst_dir_fd=staging_fd)
        pending, moved = ["0"], 1
        while pending:
            current = pending.pop()
            steps += 1
            if steps > budget:
                raise BudgetExhausted(f"more than {budget} steps")
            moved, extra = _empty_one(staging_fd, current, pending, moved, budget - steps)
            steps += extra
            os.rmdir(current, dir_fd=staging_fd)
    finally:
        os.close(staging_fd)
    os.rmdir(staging, dir_fd=root_fd)
    return steps


def remove_path(path: Path, budget: int = HOST_BUDGET) -> bool:
    """Remove `path` and whatever is below it, never raising; False: something was left. For
    the supervisor's own directories that a run may have filled (scratch, the runs folder)."""
    try:
        parent = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        remove(parent, path.name, budget)
    except FileNotFoundError:
        return True
    except Exception:  # whatever the tree is: the caller goes on
        return False
    finally:
        os.close(parent)
    return True


def _empty_one(staging_fd: int, name: str, pending: list[str], moved: int,
               budget: int) -> tuple[int, int]:
    """Unlink the non-directories in staging/name; move its directories up into staging (each
    under a fresh number, added to pending). Returns (the next free number, steps taken)."""
    _let_us_in(staging_fd, name)
    fd = os.open(name, DIR_FLAGS, dir_fd=staging_fd)
    steps = 0
    try:
        with os.scandir(fd) as listing:
            children = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
        for child, is_dir in children:
            steps += 1
            if steps > budget:
                raise BudgetExhausted(f"more than {budget} steps")
            if is_dir:
                target = str(moved)
                moved += 1
                _let_us_in(fd, child)  # moving a directory to another parent writes its ".."
                os.rename(child, target, src_dir_fd=fd, dst_dir_fd=staging_fd)
                pending.append(target)
            else:
                os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    return moved, steps


def _let_us_in(parent_fd: int, name: str) -> None:
    """A run may leave a directory without search or write permission: as its owner (user
    namespace mode) the supervisor puts them back; as root it needs neither. `name` is a
    directory (listed without following links) that nothing else changes now."""
    with contextlib.suppress(OSError):
        os.chmod(name, 0o700, dir_fd=parent_fd)


def _make_staging(root_fd: int) -> str:
    """A directory of ours at the top of the layer, under a name no run can have guessed."""
    name = f".removing-{secrets.token_hex(8)}"
    os.mkdir(name, 0o700, dir_fd=root_fd)
    return name


def _rmdir_quietly(root_fd: int, name: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=root_fd)
