"""How an exercise's check calls the person's functions, and counts what JAX compiles.

Calls: `call(user.f, x)` runs f compiled with jax.jit, once per shape and dtype of its inputs,
and reuses that program for every later case (and for `jit_ok` with the same function): one XLA
compilation instead of one per operation of an op-by-op call, which cost most of a check's
time. Python numbers, strings and None are static arguments, so f sees them as plain Python
values, as it would when called directly. Where f does not compile (a Python branch on a value,
a NumPy call on an array, a result that is not an array) the call runs f directly instead, so a
case reports exactly what a direct call would.

Counting: one listener on JAX's tracing event, registered by prepare() before any user code.
The switches a run could use to hide a compilation from it are guarded (app/worker/check_guard):
the listener lists, JAX's dispatch/monitoring/pjit/compiler modules and their classes; and the
check runs with jax_disable_jit forced off.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import jax

try:  # where typed PRNG keys live moved in JAX 0.5 (jax._src.prng before)
    from jax._src.random.prng import PRNGKeyArray
except ImportError:  # pragma: no cover - older runtimes
    from jax._src.prng import PRNGKeyArray  # type: ignore[no-redef,import-not-found]

from app.worker.check_values import JAX_ARRAY, NDARRAY

TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
# Traced: arrays (typed PRNG keys too) and Python floats, which JAX traces as weakly typed
# scalars (a new value reuses the program). Static: ints, bools, strings and None, which are
# often shapes, counts or indices the function uses as plain Python values.
_TRACED_TYPES = frozenset({JAX_ARRAY, NDARRAY, PRNGKeyArray, float, complex})
_STATIC_TYPES = frozenset({bool, int, str, type(None)})
_type = builtins.type
_len = builtins.len
_MAX_CACHED = 256  # distinct (function, static layout) pairs one check may compile


class TraceCounter:
    """Counts JAX traces (one per tracing-cache miss of a jitted function) as they happen."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: str, duration_secs: float, **_: str | int) -> None:
        if event == TRACE_EVENT:
            self.count += 1


traces = TraceCounter()
_registered: list[bool] = []


def prepare() -> None:
    """Register the trace counter; before the person's code, so its place is guarded."""
    if not _registered:
        jax.monitoring.register_event_duration_secs_listener(traces)
        _registered.append(True)


def count_traces(call: Callable[[], Any]) -> int:
    """How many times JAX traced a function while call() ran: each is a (re)compilation."""
    prepare()
    before = traces.count
    call()
    return traces.count - before


# --- compiled calls ----------------------------------------------------------------------------


_compiled: dict[tuple[Any, ...], tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _traced(value: Any) -> bool | None:
    """True: an array input (traced); False: a static Python value; None: neither (the call
    then runs f directly). Containers of arrays are traced."""
    kind = _type(value)
    if kind in _TRACED_TYPES:
        return True
    if kind in _STATIC_TYPES:
        return False
    if kind in (list, tuple, dict):
        leaves = jax.tree.leaves(value)
        if leaves and all(_type(leaf) in _TRACED_TYPES for leaf in leaves):
            return True
    return None


def compiled(function: Callable[..., Any], static_argnums: tuple[int, ...] = (),
             static_argnames: tuple[str, ...] = (), **jit_kwargs: Any) -> Callable[..., Any]:
    """jax.jit(function, ...), made once per function and static layout for the whole check:
    JAX's own cache then compiles once per shape and dtype."""
    try:
        key = (id(function), static_argnums, static_argnames,
               tuple(sorted(jit_kwargs.items())))
        hash(key)
    except TypeError:  # jit options that are not hashable: no reuse, still correct
        return jax.jit(function, static_argnums=static_argnums or None,
                       static_argnames=static_argnames or None, **jit_kwargs)
    found = _compiled.get(key)
    if found is not None and found[0] is function:
        return found[1]
    jitted = jax.jit(function, static_argnums=static_argnums or None,
                     static_argnames=static_argnames or None, **jit_kwargs)
    if _len(_compiled) < _MAX_CACHED:
        _compiled[key] = (function, jitted)  # holds the function: its id stays its own
    return jitted


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """function(*args, **kwargs), compiled once per input shape and dtype; run directly where
    it does not compile, so the result (or the error) is what a direct call gives."""
    kinds = [_traced(a) for a in args]
    named = {k: _traced(v) for k, v in kwargs.items()}
    if None in kinds or None in named.values() or not callable(function):
        return function(*args, **kwargs)
    static = tuple(i for i, traced in enumerate(kinds) if not traced)
    static_names = tuple(sorted(k for k, traced in named.items() if not traced))
    try:
        jitted = compiled(function, static, static_names)
        return jitted(*args, **kwargs)
    except Exception:  # it does not compile: the direct call gives the real answer or error
        return function(*args, **kwargs)


def clear() -> None:
    """Forget the compiled functions (between checks run in one process, as in the tests)."""
    _compiled.clear()
