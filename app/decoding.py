"""Strict, bounded decoding of protocol JSON that came from someone we do not trust.

`protocol.from_dict` trusts its input: a run's report once reached it with `"error": 5`, with
'[' * 200000 (RecursionError) and with 300k compilation entries (13 s of CPU). `decode` is what
reads bytes from a run (its report), and anything else that crossed a trust boundary:

    decode(WorkerReport, data, max_bytes=...) -> WorkerReport    or raises DecodeError
    build(WorkerReport, value) -> WorkerReport                   the same, from parsed JSON

It checks the size before parsing, parses with the standard library's C parser (deep nesting
ends as RecursionError, caught), then builds the dataclass field by field against its type
hints: every value must have its field's JSON type (a bool is not an int, an int is accepted for a
float), a Literal must be one of its values, a list or dict holds at most MAX_ITEMS entries (or the
field's own `at_most` metadata), dict keys are strings, unknown keys are ignored (old and new
sides keep talking), missing fields take their defaults. The work is bounded by the size and by
the caps, never by what the input claims. Any failure is one DecodeError with the path of the
offending field, e.g. "inspect.compilations: 300000 entries (at most 200)".

Plain Python, no dependency: the caps are protocol.py's own, next to the fields they bound.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from app import protocol

T = TypeVar("T")
MAX_DEPTH = 32  # of an `Any` value (TransformStep.options); schema fields are bounded by the schema


class DecodeError(ValueError):
    """The input is not a valid, bounded encoding of the expected type; says where and why."""


def decode(cls: type[T], data: bytes | str, *, max_bytes: int) -> T:
    """Parse and build `cls` from JSON text of at most `max_bytes` bytes."""
    if len(data) > max_bytes:
        raise DecodeError(f"{len(data)} bytes (at most {max_bytes})")
    try:
        value = json.loads(data)
    except RecursionError:
        raise DecodeError("nested too deeply") from None
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise DecodeError(f"not JSON: {str(exc)[:200]}") from None
    return build(cls, value)


def build(cls: type[T], value: object) -> T:
    """Build dataclass `cls` from already-parsed JSON data, checking every field."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    try:
        return typing.cast(T, _Builder().value(cls, value, "", None, 0))
    except RecursionError:
        raise DecodeError("nested too deeply") from None


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any, int | None, bool], ...]:
    """(name, type, entry cap or None, required) per field: get_type_hints is slow, so once per
    class."""
    hints = get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.metadata.get("max_items"),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


_SCALARS = (str, int, float, bool)


@functools.cache
def _is_scalar(tp: Any) -> bool:
    """str, int, float, bool, a Literal, or an Optional of one: cheap to check, item by item."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return all(a is type(None) or _is_scalar(a) for a in get_args(tp))
    return origin is Literal or tp in _SCALARS


def _default_cap(item: Any) -> int:
    return protocol.MAX_SCALAR_ITEMS if _is_scalar(item) else protocol.MAX_ITEMS


def _where(path: str) -> str:
    return path or "the value"


class _Builder:
    """One decode: the objects it built so far count against MAX_DECODED_OBJECTS, so that no
    input, however its entries are nested, makes it build more than that many."""

    def __init__(self) -> None:
        self.budget = protocol.MAX_DECODED_OBJECTS

    def spend(self, path: str) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise DecodeError(f"{_where(path)}: more than {protocol.MAX_DECODED_OBJECTS} "
                              "objects in all")

    def value(self, tp: Any, value: object, path: str, cap: int | None, depth: int) -> object:
        origin = get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if value is None and len(options) < len(get_args(tp)):
                return None
            if len(options) != 1:
                raise TypeError(f"unsupported union {tp!r} in the protocol")
            return self.value(options[0], value, path, cap, depth)
        if origin is Literal:
            if not isinstance(value, str) or value not in get_args(tp):
                raise DecodeError(f"{_where(path)}: {_short(value)} is not one of {get_args(tp)}")
            return value
        if origin is list:
            (item,) = get_args(tp) or (Any,)
            if not isinstance(value, list):
                raise DecodeError(f"{_where(path)}: expected a list, got {_kind(value)}")
            self.entries(len(value), cap or _default_cap(item), path)
            if _is_scalar(item):
                return self.scalars(item, value, path)
            return [self.value(item, v, f"{path}[{i}]", None, depth + 1)
                    for i, v in enumerate(value)]
        if origin is dict:
            key_type, item = get_args(tp) or (str, Any)
            if key_type is not str:
                raise TypeError(f"unsupported dict key type {key_type!r} in the protocol")
            if not isinstance(value, dict):
                raise DecodeError(f"{_where(path)}: expected an object, got {_kind(value)}")
            self.entries(len(value), cap or _default_cap(item), path)
            return {k: self.value(item, v, f"{path}.{k[:40]}", None, depth + 1)
                    for k, v in value.items()}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise DecodeError(f"{_where(path)}: expected an object, got {_kind(value)}")
            self.spend(path)
            kwargs: dict[str, object] = {}
            for name, field_type, field_cap, required in _fields(typing.cast(type, tp)):
                if name in value:
                    sub = f"{path}.{name}" if path else name
                    kwargs[name] = self.value(field_type, value[name], sub, field_cap, depth + 1)
                elif required:
                    raise DecodeError(f"{_where(path)}: the field {name!r} is missing")
            return tp(**kwargs)
        return _scalar(tp, value, path, depth)

    def entries(self, count: int, cap: int, path: str) -> None:
        if count > cap:
            raise DecodeError(f"{_where(path)}: {count} entries (at most {cap})")
        self.spend(path)

    @staticmethod
    def scalars(item: Any, values: list[object], path: str) -> list[object]:
        """A list of scalars: an item of an exact accepted type is taken as it is, without a
        call or a path; only the others are checked (and converted) one by one."""
        plain = _plain_types(item)
        return [v if type(v) in plain else _scalar_or_none(item, v, f"{path}[{i}]")
                for i, v in enumerate(values)]


@functools.cache
def _plain_types(tp: Any) -> frozenset[type]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return frozenset().union(*(_plain_types(a) for a in get_args(tp)))
    if tp is type(None) or tp in _SCALARS:
        return frozenset({tp})
    return frozenset()


def _scalar_or_none(tp: Any, value: object, path: str) -> object:
    """A scalar, Literal or Optional scalar, with its path in the error."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in get_args(tp):
            return None
        (tp,) = [a for a in get_args(tp) if a is not type(None)]
        origin = get_origin(tp)
    if origin is Literal:
        if not isinstance(value, str) or value not in get_args(tp):
            raise DecodeError(f"{_where(path)}: {_short(value)} is not one of {get_args(tp)}")
        return value
    return _scalar(tp, value, path, 0)


def _scalar(tp: Any, value: object, path: str, depth: int) -> object:
    if tp is Any:
        _check_any(value, path, depth)
        return value
    if tp is str:
        if isinstance(value, str):
            return value
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise DecodeError(f"{_where(path)}: number out of range") from None
    else:
        raise TypeError(f"unsupported type {tp!r} in the protocol")
    raise DecodeError(f"{_where(path)}: expected {tp.__name__}, got {_kind(value)}")


def _check_any(value: object, path: str, depth: int) -> None:
    """An `Any` field holds plain JSON data, nested at most MAX_DEPTH deep, MAX_ITEMS wide."""
    if depth > MAX_DEPTH:
        raise DecodeError(f"{_where(path)}: nested too deeply")
    if isinstance(value, list | dict):
        if len(value) > protocol.MAX_ITEMS:
            raise DecodeError(f"{_where(path)}: {len(value)} entries (at most "
                              f"{protocol.MAX_ITEMS})")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if not isinstance(key, str | int):
                raise DecodeError(f"{_where(path)}: a key is not a string")
            _check_any(item, f"{path}[{str(key)[:40]!r}]", depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise DecodeError(f"{_where(path)}: {_kind(value)} is not JSON data")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
