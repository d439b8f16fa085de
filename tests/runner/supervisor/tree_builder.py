"""Build a hostile tree from a plain spec under a directory descriptor. Standard library only: the
same source runs inside a sandboxed run (its code is this file plus one call) and in the tests.

A spec is a list of nodes, each a list:
    ["file", name_hex, size, mode]           a file of `size` bytes, then chmod mode
    ["link", name_hex, target]               a symbolic link (to anything: /, .., itself)
    ["fifo", name_hex]                       a named pipe
    ["hard", name_hex, other_name_hex]       a hard link to an earlier file of the same dir
    ["dir", name_hex, mode, children]        a directory, filled, then chmod mode (0 too)
    ["chain", name_hex, depth]               `depth` nested directories named "d"
Names are hex so that any bytes (but "/" and NUL) travel through JSON. Each node's failure
(ENOSPC past the layer's inode count, EEXIST for a repeated name) is skipped: a run that fails
half-way leaves exactly such half-built trees.
"""

from __future__ import annotations

import os

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def build(parent: int, spec: list) -> None:  # type: ignore[type-arg]
    for node in spec:
        try:
            _node(parent, node)
        except OSError:
            continue


def _node(parent: int, node: list) -> None:  # type: ignore[type-arg]
    kind, name = node[0], bytes.fromhex(node[1])
    if kind == "file":
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=parent)
        try:
            chunk = b"\x01" * min(node[2], 1 << 20)
            left = node[2]
            while left > 0:
                left -= os.write(fd, chunk[:left])
            os.fchmod(fd, node[3])
        finally:
            os.close(fd)
    elif kind == "link":
        os.symlink(node[2], name, dir_fd=parent)
    elif kind == "fifo":
        os.mkfifo(name, 0o600, dir_fd=parent)
    elif kind == "hard":
        os.link(bytes.fromhex(node[2]), name, src_dir_fd=parent, dst_dir_fd=parent,
                follow_symlinks=False)
    elif kind == "dir":
        os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        try:
            build(fd, node[3])
            os.fchmod(fd, node[2])
        finally:
            os.close(fd)
    elif kind == "chain":
        os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        try:
            for _ in range(node[2]):
                os.mkdir("d", 0o700, dir_fd=fd)
                deeper = os.open("d", DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = deeper
        finally:
            os.close(fd)


def fill_to(root: int, share: float, cap_bytes: int) -> None:
    """Pad the layer to `share` of its cap (past eviction's mark), with files older than the
    tree, so that eviction reaches the tree before the padding."""
    index = 0
    while True:
        st = os.fstatvfs(root)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        want = int(cap_bytes * share) - used
        if want <= 0:
            return
        name = f"pad-{index}"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=root)
        try:
            size = min(want, 8 << 20)
            chunk = b"\x02" * (1 << 20)
            while size > 0:
                size -= os.write(fd, chunk[:size])
        finally:
            os.close(fd)
        os.utime(name, (2.0, 2.0), dir_fd=root)
        index += 1


def age_everything(root: int, stamp: float = 1.0) -> None:
    """The tree's top entries the oldest of the layer: eviction removes them first."""
    for name in os.listdir(root):
        if not name.startswith("pad-"):
            try:
                os.utime(name, (stamp, stamp), dir_fd=root, follow_symlinks=False)
            except OSError:
                continue
