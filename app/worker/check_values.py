"""What an exercise's check accepts as a result: real numbers and arrays, converted by the check.

The person's code ran in this process, so a value it returns can be any object: one whose
`__array__`, `__eq__` or `dtype` says whatever the check wants to hear. A check therefore
accepts only values of exact, known types (a JAX array, a NumPy array, a Python or NumPy
number), converts them itself, and requires a numeric dtype: an object array of
"always equal" elements, a subclass, or a stand-in registered as a jax.Array is refused with a
message, before any of its own methods runs.

The references below are taken when this module is imported, before any user code.
"""

from __future__ import annotations

import builtins
from typing import Any

import ml_dtypes
import numpy as np
from jax._src.array import ArrayImpl

_asarray = np.asarray
_array_equal = np.array_equal
_np_dtype = np.dtype
_type = builtins.type
_isinstance = builtins.isinstance
_len = builtins.len

NDARRAY = np.ndarray
# The concrete type of a JAX array (jax.Array is an ABC: anything can be registered as one).
# Named, not made: importing this module must not start JAX's backend (the zygote imports it).
JAX_ARRAY: type = ArrayImpl
PY_NUMBERS = (bool, int, float, complex)
# ml_dtypes' types (bfloat16 ...) have NumPy kind "V"; these are the ones that are numbers.
_EXTRA_FLOATS = frozenset(
    _np_dtype(getattr(ml_dtypes, name))
    for name in ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz")
    if hasattr(ml_dtypes, name)
)
_EXTRA_INTS = frozenset(
    _np_dtype(getattr(ml_dtypes, name)) for name in ("int4", "uint4") if hasattr(ml_dtypes, name)
)
# NumPy's scalar types of a numeric kind, and ml_dtypes' (exact types: no subclasses).
NUMPY_SCALARS = frozenset(
    t for t in set(np.sctypeDict.values())
    if _isinstance(t, type) and issubclass(t, np.generic) and _np_dtype(t).kind in "biufc"
) | frozenset(d.type for d in _EXTRA_FLOATS | _EXTRA_INTS)
_KIND_NAMES = {"b": "booleans", "i": "integers", "u": "integers", "f": "floating-point numbers",
               "c": "complex numbers"}
# What a result may be, by what is expected: an integer for a float answer is still a number,
# a boolean is not.
_COMPATIBLE = {"b": "b", "i": "iu", "u": "iu", "f": "fiu", "c": "fciu"}


class NotAResult(Exception):
    """The value is not a number or an array the check can read; the message says why."""


def describe(value: Any) -> str:
    """The value's type, by name only: never its own repr (which is the person's code)."""
    kind = _type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" \
        else kind.__qualname__


def kind(dtype: np.dtype) -> str:
    """NumPy's kind letter, with ml_dtypes' floats as "f" and ints as "i"."""
    if dtype in _EXTRA_FLOATS:
        return "f"
    if dtype in _EXTRA_INTS:
        return "i"
    return dtype.kind


def as_array(value: Any, what: str = "the result") -> np.ndarray:
    """A NumPy copy of a real number or array; anything else raises NotAResult.

    Conversion goes through the type's own (trusted) code: NumPy for ndarrays and numbers, JAX's
    ArrayImpl for JAX arrays (whose methods the check's guard watches)."""
    kind_of = _type(value)
    if kind_of is JAX_ARRAY:
        try:
            array = _asarray(value)
        except Exception as exc:  # a deleted buffer, a tracer that escaped
            raise NotAResult(f"{what} is a JAX array that cannot be read "
                             f"({_type(exc).__name__})") from None
    elif kind_of is NDARRAY or kind_of in PY_NUMBERS or kind_of in NUMPY_SCALARS:
        array = _asarray(value)
    else:
        raise NotAResult(f"{what} should be a JAX array or a number, but it is a "
                         f"{describe(value)}")
    if _type(array) is not NDARRAY or kind(array.dtype) not in "biufc":
        raise NotAResult(f"{what} should hold numbers, but its dtype is {array.dtype}")
    return array


def compatible(got: np.ndarray, want: np.ndarray) -> bool:
    """Whether got's kind of number can stand for want's (see _COMPATIBLE)."""
    return kind(got.dtype) in _COMPATIBLE.get(kind(want.dtype), "biufc")


def kind_name(dtype: np.dtype) -> str:
    return _KIND_NAMES.get(kind(dtype), str(dtype))


def for_comparison(array: np.ndarray) -> np.ndarray:
    """ml_dtypes arrays as float32 / int32, which NumPy's comparisons understand."""
    if array.dtype in _EXTRA_FLOATS:
        return array.astype(np.float32)
    if array.dtype in _EXTRA_INTS:
        return array.astype(np.int32)
    return array


def plain(value: Any, what: str = "the result", depth: int = 0) -> Any:
    """A non-numeric expected value's counterpart: exact str / bytes / None, or a tuple, list
    or dict of them (and of numbers and arrays, as NumPy arrays), built by the check."""
    if depth > 20:
        raise NotAResult(f"{what} is nested too deeply")
    kind_of = _type(value)
    if value is None or kind_of in (str, bytes):
        return value
    if kind_of in (list, tuple):
        return kind_of(plain(v, what, depth + 1) for v in value)
    if kind_of is dict:
        if not all(_type(k) in (str, int) for k in value):
            raise NotAResult(f"{what} should have text or integer keys")
        return {k: plain(v, what, depth + 1) for k, v in value.items()}
    return as_array(value, what)


def same(got: Any, want: Any) -> bool:
    """Exact equality of two values made by plain(): NumPy's array_equal for arrays, and the
    built-in types' own equality for the rest (both sides are exact built-in types here)."""
    if _type(got) is not _type(want):
        return False
    if _type(want) is NDARRAY:
        return bool(got.shape == want.shape and _array_equal(got, want))
    if _type(want) in (list, tuple):
        return _len(got) == _len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if _type(want) is dict:
        return set(got) == set(want) and all(same(got[k], want[k]) for k in want)
    return bool(got == want)
