"""What this JAX offers: the worker runs on every runtime's JAX (0.4.38 on), and a view whose API
an older JAX lacks says so instead of crashing or showing a wrong figure.

Imports on Python 3.11 to 3.13 (each runtime's interpreter); never imports streamlit or app.ui.
"""

from __future__ import annotations

from typing import Any


class NotAvailable(Exception):
    """A view this JAX cannot make; the message names the view and the JAX version."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not available on JAX {jax_version()}")


def jax_version() -> str:
    import jax

    return str(getattr(jax, "__version__", "unknown"))


def stablehlo_debug_text(lowered: Any) -> str:
    """The lowered module's text with source locations (as_text(debug_info=True) where this JAX
    has that argument; the MLIR module's own printer before it)."""
    try:
        return str(lowered.as_text(debug_info=True))
    except TypeError:
        return str(lowered.compiler_ir("stablehlo").operation.get_asm(enable_debug_info=True))
