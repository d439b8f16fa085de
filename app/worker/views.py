"""What JAX made of the wrapped function: jaxpr, StableHLO, optimised HLO, cost, memory, shapes.

Each text view is capped; a capped view ends with a marker and is named in truncated_views.
"""

from __future__ import annotations

import re
from typing import Any

from app.protocol import MAX_ITEMS, MAX_OPS_PER_VIEW

VIEW_CHAR_LIMIT = 200_000
MAX_OPS = MAX_OPS_PER_VIEW

# CompiledMemoryStats fields worth showing; missing ones (other JAX versions) are skipped.
MEMORY_FIELDS = (
    "argument_size_in_bytes",
    "output_size_in_bytes",
    "alias_size_in_bytes",
    "temp_size_in_bytes",
    "generated_code_size_in_bytes",
    "peak_memory_in_bytes",
    "host_argument_size_in_bytes",
    "host_output_size_in_bytes",
    "host_alias_size_in_bytes",
    "host_temp_size_in_bytes",
    "host_generated_code_size_in_bytes",
)


# An absolute path to a .py file, as JAX writes into HLO file tables and locations.
_SERVER_PATH = re.compile(r"/(?:[^\s\"'/]+/)+([^\s\"'/]+\.py)")


def hide_server_paths(text: str) -> str:
    """Keep only the file name of server-side sources: a hosted demo must not show its layout."""
    return _SERVER_PATH.sub(r"\1", text)


def capped(text: str, limit: int | None = None) -> tuple[str, bool]:
    limit = VIEW_CHAR_LIMIT if limit is None else limit
    if len(text) <= limit:
        return text, False
    return text[:limit] + f"\n... [truncated: {len(text) - limit} more characters]", True


def cost_dict(compiled: Any) -> dict[str, float]:
    """flops, bytes accessed, ...: the totals, without XLA's per-operand breakdown.

    XLA reports -1 for what it could not count (flops of a cuBLAS call on GPU): left out.
    """
    analysis = compiled.cost_analysis()
    if isinstance(analysis, list | tuple):  # older JAX: one dict per device program
        analysis = analysis[0] if analysis else {}
    totals = {
        key: float(value)
        for key, value in (analysis or {}).items()
        if "{" not in key and isinstance(value, int | float) and value >= 0
    }
    return dict(list(totals.items())[:MAX_ITEMS])


def memory_dict(compiled: Any) -> dict[str, float]:
    stats = compiled.memory_analysis()
    if stats is None:
        return {}
    out: dict[str, float] = {}
    for name in MEMORY_FIELDS:
        value = getattr(stats, name, None)
        if isinstance(value, int | float):
            out[name] = float(value)
    return out


def describe_leaves(tree: Any, prefix: str) -> list[str]:
    """'args[1]: f32[3,4]' for each leaf; Python values show their type and value."""
    import jax
    import numpy as np

    out = []
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    for path, leaf in leaves[: MAX_ITEMS - 1] if len(leaves) > MAX_ITEMS else leaves:
        where = prefix + jax.tree_util.keystr(path)
        if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            aval = jax.core.ShapedArray(np.shape(leaf), leaf.dtype)
            out.append(f"{where}: {aval.str_short(short_dtypes=True)}")
        else:
            out.append(f"{where}: {type(leaf).__name__} {leaf!r}"[:200])
    if len(leaves) > MAX_ITEMS:  # the protocol's cap on a list
        out.append(f"... and {len(leaves) - len(out)} more leaves")
    return out


def devices_of(tree: Any) -> list[str]:
    """The devices holding the output: what the computation actually ran on."""
    import jax

    found: dict[int, str] = {}
    for leaf in jax.tree.leaves(tree):
        devices = getattr(leaf, "devices", None)
        if callable(devices):
            for device in devices():
                found[device.id] = f"{device.platform}:{device.id} ({device.device_kind})"
    return [found[k] for k in sorted(found)][:MAX_ITEMS]
