"""Hypothesis strategies for hostile trees in a session cache layer (specs for tree_builder.py):
any byte names, deep chains, wide directories, sizes, links anywhere, modes that lock the
supervisor out, named pipes, hard links."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_NAME_BYTES = st.binary(min_size=1, max_size=255).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))
NAMES = st.one_of(
    _NAME_BYTES,
    st.sampled_from([b"-", b"x" * 255, b"\xff\xfe", b" ", b"\n", b"..." , b"*", b"d"]),
).map(bytes.hex)
MODES = st.sampled_from([0, 0o100, 0o200, 0o400, 0o500, 0o700, 0o777, 0o1777, 0o4755])
TARGETS = st.sampled_from(["/", "..", ".", "/etc/passwd", "/proc/self/fd/0", "loop", "d/../..",
                           "/" + "a/" * 100, "x" * 4000])


def _leaf(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[Any]]:
    return st.one_of(
        st.tuples(st.just("file"), names, st.integers(0, 300_000), MODES).map(list),
        st.tuples(st.just("link"), names, TARGETS).map(list),
        st.tuples(st.just("fifo"), names).map(list),
        st.tuples(st.just("hard"), names, names).map(list),
        st.tuples(st.just("chain"), names, st.integers(1, 1_500)).map(list),
    )


def trees(max_leaves: int = 40) -> st.SearchStrategy[list[list[Any]]]:
    node = st.recursive(
        _leaf(NAMES),
        lambda children: st.tuples(st.just("dir"), NAMES, MODES,
                                   st.lists(children, max_size=6)).map(list),
        max_leaves=max_leaves,
    )
    return st.lists(node, min_size=1, max_size=8)
