"""One sentence on what to change, for the errors a transform stack typically runs into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.protocol import TransformStep


def _pmap_shape_problem(steps: Sequence[TransformStep], args: tuple[Any, ...],
                        device_count: int) -> str | None:
    """Say what is wrong with the arguments that reach pmap, if they reach it unchanged."""
    import jax
    import numpy as np

    names = [s.name for s in steps]
    if "pmap" not in names:
        return None
    index = names.index("pmap")
    if any(name != "jit" for name in names[index + 1:]):
        return None  # pmap sees slices made by outer wrappers: its inputs are not the args
    in_axes = steps[index].options.get("in_axes", 0)
    axes = list(in_axes) if isinstance(in_axes, list | tuple) else [in_axes] * len(args)
    for position, (arg, axis) in enumerate(zip(args, axes, strict=False)):
        if axis is None:
            continue
        for leaf in jax.tree.leaves(arg):
            shape = np.shape(leaf)
            if len(shape) <= axis:
                return (f"argument {position} has shape {shape} and no axis {axis} to map over "
                        f"devices")
            if shape[axis] > device_count:
                return (f"argument {position} maps {shape[axis]} items over axis {axis}, more "
                        f"than the {device_count} devices")
    return None


def advise(exc: BaseException, steps: Sequence[TransformStep], args: tuple[Any, ...],
           device_count: int) -> str | None:
    """Advice for exc raised while calling the stack, or None where we have nothing useful."""
    import jax

    message = str(exc)
    pmap_problem = _pmap_shape_problem(steps, args, device_count)
    if pmap_problem or "pmap requires at least one argument with a mapped axis" in message:
        what = pmap_problem or "no argument has an axis to map over devices"
        return (f"pmap runs one item of the leading axis per device and this run has "
                f"{device_count} devices, but {what}: give each mapped argument a leading axis "
                f"of at most {device_count} (e.g. reshape to ({device_count}, -1)) or use vmap.")
    if "Gradient only defined for scalar-output functions" in message:
        return ("grad needs a function that returns one scalar: reduce the output "
                "(e.g. jnp.sum(...) or jnp.mean(...)), or use jax.jacrev / jax.jacfwd for the "
                "whole Jacobian.")
    if "grad requires real- or complex-valued inputs" in message:
        return ("grad differentiates only float (or complex) inputs: pass 1.0 instead of 1, "
                "or x.astype(jnp.float32), or move the integer argument out of argnums.")
    if message.startswith("vmap was requested to map its argument") or (
        "vmap got inconsistent sizes" in message
    ):
        return ("vmap maps axis 0 of every argument by default: give arguments that are shared "
                "across the batch in_axes None (e.g. in_axes=(None, 0)), and make the mapped "
                "axes the same length.")
    if isinstance(exc, jax.errors.TracerArrayConversionError):
        return ("NumPy cannot work on traced values: use the jax.numpy function instead of the "
                "numpy one inside transformed code.")
    value_needed = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                    jax.errors.TracerIntegerConversionError)
    if isinstance(exc, value_needed) or "static_argnums" in message:
        return ("Under jit an argument is a tracer without a value, so Python `if`/`while`/"
                "`range` cannot depend on it: use jax.lax.cond / jnp.where / jax.lax.fori_loop, "
                "or mark the argument static with jax.jit(..., static_argnums=...).")
    if isinstance(exc, jax.errors.UnexpectedTracerError):
        return ("A traced value escaped its transformation (e.g. stored in a global or a list): "
                "return it from the function instead.")
    return None
