"""A value as a tree people can read: containers with their children, arrays as shape, dtype and
summary statistics (not a thousand-line repr).

treescope (PyPI) renders such trees, but as HTML with its own JavaScript made inside the run:
untrusted markup the page would have to execute. This tree is plain data instead (protocol
ValueNode), bounded here in depth, node count and text, and drawn by the page as text.
"""

from __future__ import annotations

import math
from typing import Any

from app.protocol import MAX_VALUE_DEPTH, MAX_VALUE_NODES, ValueNode

MAX_NODES = MAX_VALUE_NODES
MAX_DEPTH = MAX_VALUE_DEPTH
MAX_CHILDREN = 50
SUMMARY_LIMIT = 240
PATH_LIMIT = 200  # a path built from long dict keys is cut (the tree's shape stays)
STATS_MAX_ELEMENTS = 10_000_000
SHOW_VALUES_UP_TO = 8  # arrays this small show their values too


class _Budget:
    def __init__(self, nodes: int) -> None:
        self.left = nodes

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def _fmt(number: float) -> str:
    if math.isnan(number) or math.isinf(number):
        return str(number)
    return f"{number:.4g}"


def _array_summary(value: Any) -> str:
    import numpy as np

    dtype = getattr(value, "dtype", None)
    shape = tuple(getattr(value, "shape", ()))
    try:
        import jax

        aval = jax.core.ShapedArray(shape, dtype).str_short(short_dtypes=True)
    except Exception:
        aval = f"{dtype}{list(shape)}"
    size = math.prod(shape)
    if size == 0:
        return f"{aval}  (empty)"
    if size > STATS_MAX_ELEMENTS:
        return f"{aval}  ({size:,} elements: too many for statistics)"
    try:
        host = np.asarray(value)
    except Exception:  # PRNG keys and other extended dtypes have no NumPy form
        return aval
    parts = [aval]
    if size <= SHOW_VALUES_UP_TO:
        parts.append(np.array2string(host.reshape(-1), precision=4, separator=", ",
                                     max_line_width=10_000))
    if host.dtype == np.bool_:
        parts.append(f"true {int(host.sum())} of {size}")
    elif np.issubdtype(host.dtype, np.number):
        data = np.abs(host) if np.iscomplexobj(host) else host.astype(np.float64, copy=False)
        finite = np.isfinite(data)
        if not finite.all():
            parts.append(f"non-finite {int((~finite).sum())}")
            data = data[finite]
        if data.size:
            label = "|x| " if np.iscomplexobj(host) else ""
            parts.append(f"{label}min {_fmt(float(data.min()))}  max {_fmt(float(data.max()))}  "
                         f"mean {_fmt(float(data.mean()))}  std {_fmt(float(data.std()))}")
    return "  ".join(parts)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type)


def _children(value: Any) -> list[tuple[str, Any]] | None:
    """(path suffix, child) pairs for a container; None for a leaf."""
    if value is None:
        return None
    if isinstance(value, dict):
        return [(f"[{key!r}]", child) for key, child in value.items()]
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return [(f".{name}", getattr(value, name)) for name in value._fields]
    if isinstance(value, list | tuple):
        return [(f"[{index}]", child) for index, child in enumerate(value)]
    if _is_array(value) or isinstance(value, str | bytes | int | float | complex | bool):
        return None
    try:
        import jax

        flat, _ = jax.tree_util.tree_flatten_with_path(value, is_leaf=lambda n: n is not value)
    except Exception:
        return None
    if len(flat) == 1 and flat[0][1] is value:
        return None
    return [(jax.tree_util.keystr(path), child) for path, child in flat]


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if _is_array(value):
        return "array"
    if isinstance(value, bool | int | float | complex):
        return "scalar"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__
    if isinstance(value, list | tuple):
        return type(value).__name__
    return type(value).__name__[:60]


def _node(value: Any, path: str, depth: int, budget: _Budget) -> ValueNode:
    kind = _kind(value)
    children = None if depth >= MAX_DEPTH else _children(value)
    if children is None:
        if kind == "array":
            summary = _array_summary(value)
        else:
            try:
                summary = repr(value)
            except Exception as exc:  # a broken __repr__ in the user's class
                summary = f"<repr failed: {type(exc).__name__}>"
        return ValueNode(path, kind, _short(summary))
    node = ValueNode(path, kind, f"{len(children)} item" + ("" if len(children) == 1 else "s"))
    for suffix, child in children[:MAX_CHILDREN]:
        if not budget.take():
            break
        node.children.append(_node(child, (path + suffix)[:PATH_LIMIT], depth + 1, budget))
    node.more = len(children) - len(node.children)
    return node


def value_tree(value: Any, max_nodes: int = MAX_NODES) -> ValueNode | None:
    """The value as a bounded tree, or None if it is not worth one (None itself)."""
    if value is None:
        return None
    try:
        return _node(value, "", 0, _Budget(max_nodes))
    except Exception as exc:  # never lose the run's report over a tree
        return ValueNode("", type(value).__name__[:60], f"<no tree: {type(exc).__name__}>")
