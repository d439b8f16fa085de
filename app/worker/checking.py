"""An exercise's check, run in the sandboxed child right after the person's code (same process).

The check is Python from the exercise file. It runs in a fresh namespace that holds the helpers
below, `user` (the person's namespace, read through attribute access) and jax / jnp / lax / np,
and reports a CheckResult: passed, or the first case that failed and a message that teaches.

    with case("nansum of [1, nan, 2]"):
        expect_close(user.nansum(jnp.array([1.0, jnp.nan, 2.0])), 3.0)

The person's code ran first in this process, so it could have changed what the check relies on.
What is guarded:
- a result is accepted only as a real number or array of exact, known types, converted by the
  check and required to hold numbers (app/worker/check_values): never through the object's
  own __array__, __eq__ or dtype;
- the helpers hold their own references to numpy / builtins functions, taken when this module
  was imported (before any user code), so replacing `np.allclose` later changes nothing here;
- the check's globals get a copy of the builtins as they were before the user's code;
- the tamper guard (app/worker/check_guard) compares the modules, classes and listener lists
  the check relies on before and after the check: anything replaced or deleted fails the check
  ("the check cannot trust ..."), naming it;
- compilations are counted by a listener registered before any user code, and the check runs
  with jax_disable_jit forced off (app/worker/check_calls);
- inputs come from a generator seeded from os.urandom at check time, so hard-coding the
  answers to fixed inputs does not pass.
What stays forgeable, by design of a same-process check, is listed in docs/exercise-checks.md:
code that writes its own report on the result pipe (fd 3) and exits, or reaches into the
worker's frames and objects (sys._getframe, gc, ctypes), can claim a pass. Rooms record every
attempt's code, so the facilitator can see such a "pass".
"""

from __future__ import annotations

import builtins
import contextlib
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from app.protocol import (
    CHECK_CASE_CHARS,
    CHECK_ERROR_TYPE_CHARS,
    CHECK_MAX_CASES,
    CHECK_MESSAGE_CHARS,
    CheckResult,
    ErrorInfo,
)
from app.worker import check_calls, check_values
from app.worker.check_guard import GUARDED_MODULES, Snapshot, snapshot, tampered

__all__ = ["GUARDED_MODULES", "Snapshot", "run_check", "snapshot", "tampered"]

CHECK_FILENAME = "<check>"
_REPR_CHARS = 160

# Our own references, taken before any user code runs (see the module docstring).
_asarray = np.asarray
_allclose = np.allclose
_array2string = np.array2string
_default_rng = np.random.default_rng
_urandom = os.urandom
_isinstance = builtins.isinstance
_len = builtins.len
_repr = builtins.repr
_BUILTINS = dict(vars(builtins))

# One sentence for the JAX errors a person meets while doing the exercises.
_JAX_ADVICE = {
    "TracerBoolConversionError": "a Python `if`/`while`/`and` looked at a traced value under "
    "jit: use jnp.where or jax.lax.cond, or make the argument static.",
    "ConcretizationTypeError": "a traced value was used where JAX needs a concrete Python "
    "value (a shape, a range, a Python branch): make that argument static or use lax.",
    "NonConcreteBooleanIndexError": "boolean indexing `x[mask]` gives a shape that depends on "
    "the values, which jit cannot compile: use jnp.where(mask, x, 0) instead.",
    "TracerIntegerConversionError": "a traced value was turned into a Python int (e.g. "
    "range(x) or list indexing): keep it an array or make it static.",
    "TracerArrayConversionError": "a traced value was turned into a NumPy array (np.* inside "
    "a jitted function): use jnp.* instead.",
    "UnexpectedTracerError": "a traced value escaped the function (stored in a global or a "
    "list): return it instead.",
}


class CheckFailed(Exception):
    """Raised by a helper when a case fails; its message is shown to the person."""


def _short(value: Any) -> str:
    try:
        text = _repr(value)
    except Exception as exc:  # a value whose repr fails is still reported
        text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if _len(text) <= _REPR_CHARS else text[: _REPR_CHARS - 3] + "..."


def _values(array: np.ndarray) -> str:
    """An array's values as a person reads them: 9.0, or [1. 2. 3.] (long ones shortened)."""
    try:
        if array.ndim == 0:
            return _repr(array.item())
        text = _array2string(array, precision=5, threshold=12, edgeitems=3)
    except Exception:
        return _short(array)
    text = " ".join(text.split())
    return text if _len(text) <= _REPR_CHARS else text[: _REPR_CHARS - 3] + "..."


class _Cases:
    """The cases that passed so far, and the current one."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.current: str | None = None
        self.hint = ""  # the current case's advice, added to its failure message


_state = _Cases()


@contextlib.contextmanager
def case(name: str, hint: str = "") -> Iterator[None]:
    """A named case: the first one that fails ends the check and names itself in the result.
    hint: the exercise's advice on the fix, added after whatever message ends the case."""
    _state.current = str(name)[:CHECK_CASE_CHARS]
    _state.hint = str(hint)
    yield  # an exception propagates to run_check, which knows the current case
    if _len(_state.passed) < CHECK_MAX_CASES:
        _state.passed.append(_state.current)
    _state.current, _state.hint = None, ""


def expect(condition: Any, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def as_array(value: Any, what: str = "the result") -> np.ndarray:
    """The value as a NumPy array, if it is a real number or array (check_values.as_array);
    anything else fails the case. Checks use it instead of np.asarray on the person's values."""
    try:
        return check_values.as_array(value, what)
    except check_values.NotAResult as exc:
        raise CheckFailed(f"{exc}.") from None


def expect_shape(got: Any, shape: tuple[int, ...], what: str = "the result") -> None:
    actual = tuple(as_array(got, what).shape)
    expect(actual == tuple(shape), f"{what} should have shape {tuple(shape)}, not {actual}.")


def expect_dtype(got: Any, dtype: Any, what: str = "the result") -> None:
    actual = as_array(got, what).dtype
    expect(actual == np.dtype(dtype),
           f"{what} should have dtype {np.dtype(dtype).name}, not {actual}.")


def expect_close(got: Any, want: Any, what: str = "the result", rtol: float = 1e-5,
                 atol: float = 1e-6) -> None:
    """Same shape, numbers of a fitting kind, and values within tolerance (NaN matches NaN)."""
    want_array = check_values.for_comparison(_asarray(want))
    got_array = as_array(got, what)
    if tuple(got_array.shape) != tuple(want_array.shape):
        raise CheckFailed(f"{what} should have shape {tuple(want_array.shape)}, not "
                          f"{tuple(got_array.shape)} (got {_values(got_array)}).")
    if not check_values.compatible(got_array, want_array):
        raise CheckFailed(f"{what} should hold {check_values.kind_name(want_array.dtype)}, "
                          f"not {got_array.dtype} (got {_values(got_array)}).")
    ok = _allclose(check_values.for_comparison(got_array), want_array, rtol=rtol, atol=atol,
                   equal_nan=True)
    if not ok:
        raise CheckFailed(f"{what} should be {_values(want_array)}, but it is "
                          f"{_values(got_array)}.")


def expect_equal(got: Any, want: Any, what: str = "the result") -> None:
    """Exactly equal: numbers and arrays as the check converts them (shape and values), strings
    and None by their exact type, and tuples, lists and dicts of these."""
    try:
        ok = check_values.same(check_values.plain(got, what), check_values.plain(want, what))
    except check_values.NotAResult as exc:
        raise CheckFailed(f"{exc}.") from None
    if not ok:
        raise CheckFailed(f"{what} should be {_short(want)}, but it is {_described(got)}.")


def _described(value: Any) -> str:
    """A value the person's code made: its numbers if it is a real array, else its type only
    (its own repr is the person's code)."""
    try:
        return _values(check_values.as_array(value))
    except check_values.NotAResult:
        kind = type(value)
        if kind in (str, bytes, type(None), list, tuple, dict):
            return _short(value)
        return f"a {check_values.describe(value)}"


def jit_ok(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call jax.jit(function, **kwargs)(*args); a tracing error fails the case with advice.
    The compiled function is shared with call(): one compilation per shape and dtype."""
    return check_calls.compiled(function, **kwargs)(*args)


def cache_size(jitted: Any) -> int:
    """How many compilations a jax.jit function holds (each distinct signature compiles once)."""
    size = getattr(jitted, "_cache_size", None)
    if size is None:
        raise CheckFailed("this should be a jax.jit-wrapped function (jax.jit(f) or @jax.jit), "
                          f"but it is {_short(jitted)}.")
    return int(size())


def eqn_count(function: Callable[..., Any], *args: Any) -> int:
    """Equations in the function's jaxpr, sub-jaxprs included: it grows with the input size
    when a Python loop is unrolled, and stays put for vmap, scan or fori_loop."""
    import jax

    closed = jax.make_jaxpr(function)(*args)
    return _count(closed.jaxpr)


def _count(jaxpr: Any) -> int:
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for param in eqn.params.values():
            for sub in param if _isinstance(param, list | tuple) else (param,):
                inner = getattr(sub, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    total += _count(inner)
                elif hasattr(sub, "eqns"):
                    total += _count(sub)
    return total


def expect_no_unrolled_loop(function: Callable[..., Any], small: tuple[Any, ...],
                            large: tuple[Any, ...], what: str = "the function") -> None:
    """The jaxpr for a large input is no bigger than for a small one: no per-element Python loop."""
    few, many = eqn_count(function, *small), eqn_count(function, *large)
    expect(many <= few, f"{what} traces to {few} operations for the small input and {many} for "
           "the large one: a Python loop runs once per element. Let JAX do the loop "
           "(vmap, vectorised jnp operations, lax.scan or lax.fori_loop).")


def printed(call: Callable[[], Any]) -> str:
    """What call() printed, jax.debug.print included (waited for with effects_barrier)."""
    import io

    import jax

    buffer, previous = io.StringIO(), sys.stdout
    sys.stdout = buffer
    try:
        jax.block_until_ready(call())
        jax.effects_barrier()
    finally:
        sys.stdout = previous
    return buffer.getvalue()


def rng() -> np.random.Generator:
    """A NumPy generator seeded at check time: inputs the person's code cannot know."""
    return _default_rng(int.from_bytes(_urandom(8), "little"))


class UserNamespace:
    """The person's names, read as attributes: `user.f`; a missing one fails the case."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        object.__setattr__(self, "_names", namespace)

    def __getattr__(self, name: str) -> Any:
        names = object.__getattribute__(self, "_names")
        if name not in names:
            raise CheckFailed(f"your code does not define `{name}`; the exercise asks for it.")
        return names[name]

    def __contains__(self, name: str) -> bool:
        return name in object.__getattribute__(self, "_names")


# --- tamper guard -----------------------------------------------------------------------------


def _tamper_result(names: list[str]) -> CheckResult:
    listed = ", ".join(names[:5]) + (" ..." if _len(names) > 5 else "")
    return CheckResult(
        passed=False, case="the check's tools are untouched",
        message=(f"Your code replaced {listed}; the check relies on them and cannot trust the "
                 "result. Leave library functions as they are and run again."),
    )


# --- running a check ---------------------------------------------------------------------------


def helpers() -> dict[str, Any]:
    import jax
    import jax.numpy as jnp
    from jax import lax

    check_calls.prepare()  # the compile counter's listener, before any user code
    return {
        "case": case, "expect": expect, "expect_close": expect_close,
        "expect_equal": expect_equal, "expect_shape": expect_shape,
        "expect_dtype": expect_dtype, "as_array": as_array, "call": check_calls.call,
        "jit_ok": jit_ok, "cache_size": cache_size,
        "eqn_count": eqn_count, "expect_no_unrolled_loop": expect_no_unrolled_loop,
        "count_traces": check_calls.count_traces, "printed": printed,
        "rng": rng, "CheckFailed": CheckFailed, "jax": jax, "jnp": jnp, "lax": lax, "np": np,
        "math": math,
    }


def _cap(text: str) -> str:
    return text if _len(text) <= CHECK_MESSAGE_CHARS else text[: CHECK_MESSAGE_CHARS - 3] + "..."


def _failure(exc: BaseException) -> tuple[str, str | None]:
    """The message for an exception that ended a case, and its type when it is not ours."""
    if _isinstance(exc, CheckFailed):
        return str(exc), None
    kind = type(exc).__name__[:CHECK_ERROR_TYPE_CHARS]
    first = " ".join(str(exc).split())
    first = first if _len(first) <= 300 else first[:297] + "..."
    where = ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<snippet>"]
    if frames:
        where = f" (your line {frames[-1].lineno})"
    advice = _JAX_ADVICE.get(kind)
    message = f"your code raised {kind}{where}: {first.rstrip('.')}"
    return (f"{message}. This means {advice}" if advice else message), kind


def code_error_result(error: ErrorInfo) -> CheckResult:
    """The person's code itself raised: the check could not start."""
    where = f" on line {error.line}" if error.line else ""
    return CheckResult(
        passed=False, case="your code runs to the end",
        error_type=error.type[:CHECK_ERROR_TYPE_CHARS],
        message=_cap(f"Your code raised {error.type}{where} before the check could run: "
                     f"{error.message}"),
    )


def run_check(check_code: str, namespace: dict[str, Any], before: Snapshot) -> CheckResult:
    """Run the check against the person's namespace; the first failing case ends it."""
    changed = tampered(before)
    if changed:
        return _tamper_result(changed)
    _state.passed, _state.current, _state.hint = [], None, ""
    scope: dict[str, Any] = {"__builtins__": dict(_BUILTINS), "__name__": "__check__",
                             "user": UserNamespace(namespace), **helpers()}
    result: CheckResult
    import jax

    try:
        # Compilations are what some cases count: a run that switched jit off compiles nothing.
        with jax.disable_jit(False):
            exec(compile(check_code, CHECK_FILENAME, "exec"), scope)
    except BaseException as exc:  # whatever ended it, it is this case's failure
        message, kind = _failure(exc)
        if _state.hint:
            message = f"{message.rstrip()} {_state.hint}"
        result = CheckResult(passed=False, case=_state.current or "the check runs",
                             message=_cap(message), passed_cases=list(_state.passed),
                             error_type=kind)
    else:
        result = CheckResult(passed=True, passed_cases=list(_state.passed))
    finally:
        check_calls.clear()
    changed = tampered(before)  # the person's functions ran during the check too
    return _tamper_result(changed) if changed else result
