"""The inspect step: after the snippet ran, wrap one of its functions and show what JAX did.

Order matters for honest numbers: the first call runs on cold in-memory caches (trace, lower,
compile and run, all in it), then trace+lower and compile are timed separately on cold caches
again through the ahead-of-time stages, whose results also give the views. Only the first call's
output reaches the user's stdout: later traces and timed repeats run with fds 1 and 2 silenced,
so a jax.debug.print in the function prints once, not once per timed repeat.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from app.protocol import InspectRequest, InspectResult, Timings
from app.worker import compat, source_map, transforms, views
from app.worker.advice import advise
from app.worker.compile_log import record_compilations
from app.worker.errors import error_info
from app.worker.passes import dump_passes
from app.worker.phases import Phases, record_phases
from app.worker.profile import profile_calls
from app.worker.timing import block, steady_state, time_call
from app.worker.values import value_tree

ARGS_FILENAME = "<inspect args>"
OUTPUT_REPR_LIMIT = 10_000
OUTPUT_NAME = "__inspect_output__"  # the output itself, in the returned namespace (for tests)
TEXT_VIEWS = ("jaxpr", "stablehlo", "hlo")
COMPILED_VIEWS = ("hlo", "cost", "memory")


class _Stop(Exception):
    """The inspect step cannot go on; result.error says why."""


class _Notice(Exception):
    """The inspect step cannot go on because of one of its settings (function, arguments,
    stack), not because of the code: result.notice says so, result.error stays empty."""


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Mute the user's output: sys.stdout/stderr and fds 1 and 2 (C++ and XLA write there).

    Pending jax.debug.print callbacks are waited for on both sides, so none leaks out later.
    """
    import jax

    jax.effects_barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    except OSError:  # no /dev/null in this sandbox: better repeated output than a failed inspect
        yield
        return
    with sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            with contextlib.suppress(Exception):
                jax.effects_barrier()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _functions_in(namespace: dict[str, Any]) -> list[str]:
    """The functions the snippet itself defines, in the order it first defined them."""
    return [
        name for name, value in namespace.items()
        if callable(value) and not name.startswith("_") and not isinstance(value, type)
        and getattr(value, "__module__", None) in ("__main__", None)
    ]


def _resolve_function(request: InspectRequest, namespace: dict[str, Any],
                      result: InspectResult) -> tuple[str, Callable[..., Any]]:
    """The function to inspect: the one named, else the last one the snippet defines (said in
    result.notice). A name the code lacks is a setting to change, never an error of the code."""
    function = namespace.get(request.function)
    if callable(function):
        return request.function, function
    defined = _functions_in(namespace)
    if not defined:
        raise _Notice(f"Inspect found no function named {request.function!r} to look at: this "
                      "code defines no function. The run itself is not affected.")
    picked = defined[-1]
    result.notice = (f"This code defines no function named {request.function!r}, so Inspect "
                     f"looked at {picked!r}, the last function it defines"
                     + (f" (it also defines {', '.join(defined[:-1])})." if defined[:-1] else ".")
                     + " Set the function to inspect in the options.")
    return picked, namespace[picked]


def _evaluate_args(request: InspectRequest, namespace: dict[str, Any]) -> tuple[Any, ...]:
    try:
        value = eval(compile(request.args, ARGS_FILENAME, "eval"), namespace)
    except BaseException as exc:
        raise _Notice(
            f"Inspect could not evaluate its example arguments {request.args!r} "
            f"({type(exc).__name__}: {str(exc)[:300]}). They are one Python expression "
            "evaluated after your code, e.g. (jnp.arange(4.0),) or (params, x). "
            "The run itself is not affected."
        ) from exc
    return value if isinstance(value, tuple) else (value,)


def _arg_factory(args: tuple[Any, ...], donating: bool) -> Callable[[], tuple[Any, ...]]:
    """Same arguments every call; fresh device copies when a jit donates (and deletes) them."""
    if not donating:
        return lambda: args
    import jax
    import jax.numpy as jnp

    def fresh() -> tuple[Any, ...]:
        return jax.tree.map(lambda leaf: jnp.array(leaf, copy=True)
                            if isinstance(leaf, jax.Array) else leaf, args)
    return fresh


def _mapped_size(args: tuple[Any, ...]) -> int:
    import jax
    import numpy as np

    for leaf in jax.tree.leaves(args):
        if np.ndim(leaf) >= 1:
            return int(np.shape(leaf)[0])
    return jax.device_count()


class _Inspection:
    def __init__(self, request: InspectRequest, namespace: dict[str, Any],
                 result: InspectResult) -> None:
        self.request, self.namespace, self.result = request, namespace, result
        self.steps = request.transforms
        self.timings = Timings() if request.timings else None
        self.lowered: Any = None  # the AOT lowering, kept for the pass dump

    def run(self) -> None:
        import jax

        request, result, steps = self.request, self.result, self.steps
        name, function = _resolve_function(request, self.namespace, result)
        try:
            result.expression = transforms.render_expression(name, steps)
        except transforms.TransformOptionError as exc:
            raise _Notice(f"Inspect could not build the transform stack: {exc}.") from exc
        args = _evaluate_args(request, self.namespace)
        make_args = _arg_factory(args, transforms.donated_argnums(steps))
        wrapped = transforms.build(function, steps)
        self._notes(name, function, args)

        if self.timings:
            jax.clear_caches()  # the first call pays for tracing and compiling, as in a fresh run
        try:
            call_args = make_args()
            # Only the first call's compilations are the user's; later ones are our measurements.
            with record_compilations() as recorder:
                try:
                    first_s, output = time_call(lambda: wrapped(*call_args))
                finally:
                    result.compilations = recorder.compilations()
        except Exception as exc:
            info = error_info(exc)
            info.advice = advise(exc, steps, args, jax.device_count()) or info.advice
            raise _Stop(info) from exc
        result.output_repr = repr(output)[:OUTPUT_REPR_LIMIT]
        result.output_tree = value_tree(output)
        self.namespace[OUTPUT_NAME] = output
        if self.timings:
            self.timings.first_call_s = first_s
        self._shapes_and_devices(args, output)

        with silenced():
            self._staged_views(wrapped, args, make_args)
            self._text_jaxpr(wrapped, make_args)
            self._steady(function, wrapped, make_args, args)
            self._profile(wrapped, make_args)
            self._passes()
        result.timings = self.timings

    def _notes(self, name: str, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        import jax

        steps, result = self.steps, self.result
        if transforms.has_step(steps, "pmap"):
            modern = transforms.modern_pmap_equivalent(
                name, steps, _mapped_size(args), jax.device_count())
            result.warnings.append(
                "jax.pmap is in maintenance mode (this JAX implements it on shard_map); the "
                f"modern equivalent is {modern}")
        compiled_already = callable(getattr(function, "lower", None))  # @jax.jit, jax.pmap
        if (not self.timings or compiled_already
                or any(s.name in transforms.COMPILING_STEPS for s in steps)):
            return
        what = "The stack has no jit" if steps else f"{name} is not jitted"
        result.warnings.append(
            f"{what}: trace+lower and compile times are for jax.jit({result.expression}), which "
            f"the views lower; steady state times {result.expression} as written, op by op.")

    def _shapes_and_devices(self, args: tuple[Any, ...], output: Any) -> None:
        views_wanted, result = self.request.views, self.result
        if "shapes" in views_wanted:
            result.in_shapes = views.describe_leaves(args, "args")
            result.out_shapes = views.describe_leaves(output, "out")
        if "devices" in views_wanted:
            result.devices = views.devices_of(output)

    def _lowerable(self, wrapped: Callable[..., Any]) -> Any:
        import jax

        # Un-jitted stacks cannot be lowered: wrap them in jit, as the UI says.
        return wrapped if transforms.outermost_is(self.steps, "jit") else jax.jit(wrapped)

    def _staged_views(self, wrapped: Callable[..., Any], args: tuple[Any, ...],
                      make_args: Callable[[], tuple[Any, ...]]) -> None:
        import jax

        request = self.request
        wanted = set(request.views)
        if not (self.timings or request.passes or wanted & {"stablehlo", *COMPILED_VIEWS}):
            return
        result, timings = self.result, self.timings
        try:
            if timings:
                jax.clear_caches()
            with record_phases() as phases:
                start = time.perf_counter()
                lowered = self._lowerable(wrapped).trace(*make_args()).lower()
                lowered_at = time.perf_counter()
                compiled = (lowered.compile() if (timings or wanted & set(COMPILED_VIEWS))
                            else None)
                compiled_at = time.perf_counter()
            self.lowered = lowered
            if timings:
                _split(timings, phases, lowered_at - start, compiled_at - lowered_at)
            if "stablehlo" in wanted:
                text, lines = source_map.stablehlo_text(compat.stablehlo_debug_text(lowered),
                                                        lowered.as_text())
                self._set_text("stablehlo", text, lines, source_map.stablehlo_ops(text))
            if compiled is not None:
                if "hlo" in wanted:
                    text = source_map.scrub_foreign_files(compiled.as_text())
                    self._set_text("hlo", text, source_map.hlo_source_lines(text),
                                   source_map.hlo_ops(text))
                if "cost" in wanted:
                    result.cost = views.cost_dict(compiled)
                    if "flops" not in result.cost:
                        result.warnings.append("XLA gave no flop count for this program on "
                                               "this backend (e.g. a library call on GPU).")
                if "memory" in wanted:
                    result.memory = views.memory_dict(compiled)
        except Exception as exc:
            result.warnings.append(f"Could not lower or compile for the views: "
                                   f"{type(exc).__name__}: {str(exc)[:500]}")

    def _text_jaxpr(self, wrapped: Callable[..., Any],
                    make_args: Callable[[], tuple[Any, ...]]) -> None:
        import jax

        if "jaxpr" not in self.request.views:
            return
        try:
            static = transforms.static_argnums(self.steps)
            closed = jax.make_jaxpr(wrapped, static_argnums=static)(*make_args())
            text, lines = source_map.jaxpr_text(closed)
            self._set_text("jaxpr", text, lines, source_map.jaxpr_primitives(closed))
        except Exception as exc:
            self.result.warnings.append(f"Could not make the jaxpr: {type(exc).__name__}: "
                                        f"{str(exc)[:500]}")

    def _set_text(self, view: str, text: str, lines: list[int | None] | None = None,
                  ops: list[str] | None = None) -> None:
        text, truncated = views.capped(views.hide_server_paths(text))
        setattr(self.result, view, text)
        if truncated:
            self.result.truncated_views.append(view)
        if lines is not None:
            count = text.count("\n") + 1
            self.result.source_lines[view] = (list(lines) + [None] * count)[:count]
        if ops is not None:
            self.result.ops[view] = ops[: views.MAX_OPS]

    def _profile(self, wrapped: Callable[..., Any],
                 make_args: Callable[[], tuple[Any, ...]]) -> None:
        if not self.request.profile:
            return
        try:
            self.result.profile = profile_calls(wrapped, make_args, block)
        except compat.NotAvailable as exc:
            self.result.warnings.append(f"{exc}.")
        except Exception as exc:
            self.result.warnings.append(f"Could not profile: {type(exc).__name__}: "
                                        f"{str(exc)[:500]}")

    def _passes(self) -> None:
        if not self.request.passes or self.lowered is None:
            return
        try:
            size = len(self.result.stablehlo or "") or len(self.lowered.as_text())
            self.result.passes, self.result.passes_note = dump_passes(self.lowered, size)
        except Exception as exc:
            self.result.passes_note = (f"The pass dump failed: {type(exc).__name__}: "
                                       f"{str(exc)[:500]}")

    def _steady(self, function: Callable[..., Any], wrapped: Callable[..., Any],
                make_args: Callable[[], tuple[Any, ...]], args: tuple[Any, ...]) -> None:
        timings, request = self.timings, self.request
        if timings is None:
            return
        timings.steady = steady_state(wrapped, make_args)
        if request.compare_unjitted:
            if transforms.has_step(self.steps, "jit"):
                eager = transforms.build(function, transforms.without_jit(self.steps))
                timings.unjitted = self._measure("un-jitted", eager, make_args)
            else:
                timings.unjitted = timings.steady
        if request.numpy_function:
            timings.numpy = self._measure_numpy(request.numpy_function, args)

    def _measure(self, label: str, call: Callable[..., Any],
                 make_args: Callable[[], tuple[Any, ...]]) -> Any:
        try:
            return steady_state(call, make_args)
        except Exception as exc:
            self.result.warnings.append(f"The {label} version failed: {type(exc).__name__}: "
                                        f"{str(exc)[:500]}")
            return None

    def _measure_numpy(self, name: str, args: tuple[Any, ...]) -> Any:
        import jax
        import numpy as np

        function = self.namespace.get(name)
        if not callable(function):
            self.result.warnings.append(f"The snippet defines no NumPy function named {name!r}.")
            return None
        # The same values as NumPy arrays, so NumPy never touches a device array.
        numpy_args = jax.tree.map(lambda leaf: np.asarray(leaf) if isinstance(leaf, jax.Array)
                                  else leaf, args)
        return self._measure("NumPy", function, lambda: numpy_args)


def _split(timings: Timings, phases: Phases, trace_lower_clock: float,
           compile_clock: float) -> None:
    """Trace / lower / compile from JAX's own events; the clock where it sent none."""
    if phases.events:
        timings.trace_s, timings.lower_s = phases.trace_s, phases.lower_s
        timings.trace_lower_s = phases.trace_s + phases.lower_s
        timings.compile_s = phases.compile_s
        timings.split_source = "jax.monitoring"
    else:
        timings.trace_lower_s, timings.compile_s = trace_lower_clock, compile_clock
    timings.compile_cached = phases.cache_hit


def inspect_function(request: InspectRequest, namespace: dict[str, Any]) -> InspectResult:
    """Everything the Transform Lab shows for one function; errors land in result.error."""
    result = InspectResult()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _Inspection(request, namespace, result).run()
        except _Stop as stop:
            result.error = stop.args[0]
        except _Notice as notice:
            result.notice = str(notice)
        except Exception as exc:  # a bug in a view must not lose the rest of the run's report
            result.error = error_info(exc)
    seen: set[str] = set()
    for warning in caught:
        text = f"{warning.category.__name__}: {warning.message}"
        if text not in seen:
            seen.add(text)
            result.warnings.append(text)
    return result
