"""Build the user's transform stack (innermost first) and the Python expression it equals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.protocol import TransformStep

# The options each wrapper accepts from a request; anything else is refused with this list.
ALLOWED_OPTIONS: dict[str, tuple[str, ...]] = {
    "grad": ("argnums", "has_aux", "holomorphic", "allow_int"),
    "value_and_grad": ("argnums", "has_aux", "holomorphic", "allow_int"),
    "jit": ("static_argnums", "static_argnames", "donate_argnums", "donate_argnames"),
    "vmap": ("in_axes", "out_axes", "axis_name", "axis_size"),
    "pmap": ("axis_name", "in_axes", "out_axes", "static_broadcasted_argnums"),
}
COMPILING_STEPS = ("jit", "pmap")


class TransformOptionError(ValueError):
    """A request named a wrapper or an option that JAX does not have."""


def _as_python(value: Any) -> Any:
    """JSON lists become tuples: JAX wants tuples for in_axes, argnums and friends."""
    if isinstance(value, list | tuple):
        return tuple(_as_python(v) for v in value)
    if isinstance(value, dict):
        return {k: _as_python(v) for k, v in value.items()}
    return value


def normalised_options(step: TransformStep) -> dict[str, Any]:
    allowed = ALLOWED_OPTIONS.get(step.name)
    if allowed is None:
        raise TransformOptionError(
            f"unknown transform {step.name!r}; choose from {', '.join(ALLOWED_OPTIONS)}"
        )
    unknown = sorted(set(step.options) - set(allowed))
    if unknown:
        raise TransformOptionError(
            f"jax.{step.name} has no option {', '.join(unknown)}; it takes {', '.join(allowed)}"
        )
    return {k: _as_python(v) for k, v in step.options.items()}


def render_expression(function_name: str, steps: Sequence[TransformStep]) -> str:
    """e.g. jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))"""
    expression = function_name
    for step in steps:
        options = normalised_options(step)
        arguments = [expression] + [f"{k}={v!r}" for k, v in options.items()]
        expression = f"jax.{step.name}({', '.join(arguments)})"
    return expression


def build(function: Callable[..., Any], steps: Sequence[TransformStep]) -> Callable[..., Any]:
    """Apply the wrappers innermost first, exactly in the order the user gave."""
    import jax

    wrapped = function
    for step in steps:
        wrapper = getattr(jax, step.name)
        wrapped = wrapper(wrapped, **normalised_options(step))
    return wrapped


def without_jit(steps: Sequence[TransformStep]) -> list[TransformStep]:
    """The same stack with its jit wrappers removed: what the user's code costs eagerly."""
    return [step for step in steps if step.name != "jit"]


def outermost_is(steps: Sequence[TransformStep], name: str) -> bool:
    return bool(steps) and steps[-1].name == name


def has_step(steps: Sequence[TransformStep], name: str) -> bool:
    return any(step.name == name for step in steps)


def donated_argnums(steps: Sequence[TransformStep]) -> bool:
    """True when a jit donates arguments: each call then needs fresh copies of them."""
    donating = ("donate_argnums", "donate_argnames")
    return any(
        step.name == "jit" and any(step.options.get(k) not in (None, (), []) for k in donating)
        for step in steps
    )


def static_argnums(steps: Sequence[TransformStep]) -> tuple[int, ...]:
    """The outermost jit's static_argnums, which make_jaxpr must also treat as static."""
    if not outermost_is(steps, "jit"):
        return ()
    value = _as_python(steps[-1].options.get("static_argnums", ()))
    return (value,) if isinstance(value, int) else tuple(value)


def _spec(axis_name: str, mapped_axis: int | None) -> str:
    if mapped_axis is None:
        return "jax.P()"
    return f"jax.P({', '.join(['None'] * mapped_axis + [repr(axis_name)])})"


def modern_pmap_equivalent(function_name: str, steps: Sequence[TransformStep],
                           mapped_size: int, device_count: int) -> str | None:
    """What to write instead of pmap on current JAX: jit of a shard_map over a device mesh.

    Each device gets a block of the mapped axis; vmap inside the block keeps pmap's per-item
    semantics, and collectives over the axis name then run across the mesh axis.
    """
    pmaps = [s for s in steps if s.name == "pmap"]
    if not pmaps:
        return None
    options = normalised_options(pmaps[0])
    axis = options.get("axis_name") or "i"
    inner = render_expression(function_name, steps[: steps.index(pmaps[0])])
    in_axes = options.get("in_axes", 0)
    if isinstance(in_axes, tuple):
        specs = [_spec(axis, a) for a in in_axes]
        in_specs = f"({', '.join(specs)}{',' if len(specs) == 1 else ''})"
        vmap_axes = f", in_axes={in_axes!r}"
    else:
        in_specs = _spec(axis, in_axes)
        vmap_axes = "" if in_axes == 0 else f", in_axes={in_axes!r}"
    # pmap uses as many devices as the mapped axis has items; a mesh must name them.
    devices = "" if mapped_size == device_count else f", devices=jax.devices()[:{mapped_size}]"
    return (
        f"jax.jit(jax.shard_map(jax.vmap({inner}{vmap_axes}), "
        f"mesh=jax.make_mesh(({mapped_size},), ({axis!r},), "
        f"axis_types=(jax.sharding.AxisType.Auto,){devices}), "
        f"in_specs={in_specs}, out_specs={_spec(axis, options.get('out_axes', 0))}))"
    )
