"""Strict, bounded decoding of structured input that came from someone we do not trust.

The one validator of such input: a run's report, the
supervisor's results, a runner's status, a share link's payload, a snippet's or an exercise's
header. Each declares its shape as a dataclass and builds it here, so one set of rules holds for
all of them. (`protocol.from_dict` trusts its input: a run's report once reached it with
`"error": 5`, with '[' * 200000 (RecursionError) and with 300k compilation entries.)

    decode(WorkerReport, data, max_bytes=...) -> WorkerReport    or raises DecodeError
    build(WorkerReport, value) -> WorkerReport                   the same, from parsed JSON

It checks the size before parsing, parses with the standard library's C parser (deep nesting
ends as RecursionError, caught), then builds the dataclass field by field against its type
hints: every value must have its field's JSON type (a bool is not an int, an int is accepted for a
float), a Literal must be one of its values, a list or dict holds at most MAX_ITEMS entries (or the
field's own `max_items` metadata), a text at most its field's `max_chars` and, with
`non_empty`, more than white space, dict keys are strings, unknown keys are ignored (old and new
sides keep talking; `unknown="reject"` for files people write, where a typo must not pass),
missing fields take their defaults or are "required". The work is bounded by the size and by
the caps, never by what the input claims. Any failure is one DecodeError with the path of the
offending field, e.g. "inspect.compilations: 300000 entries (at most 200)".

Plain Python, no dependency: the caps are protocol.py's own, next to the fields they bound.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from app import protocol

T = TypeVar("T")
MAX_DEPTH = 32  # of an `Any` value (TransformStep.options); schema fields are bounded by the schema


class DecodeError(ValueError):
    """The input is not a valid, bounded encoding of the expected type; says where and why.

    path: where, e.g. "inspect.compilations[3]" (None: the input as a whole); field: the top-level
    field it is in; problem: what is wrong there, without the path."""

    def __init__(self, problem: str, path: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(problem if path is None else f"{_where(path)}: {problem}")

    @property
    def field(self) -> str | None:
        return re.split(r"[.\[]", self.path, maxsplit=1)[0] or None if self.path else None


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


def build(cls: type[T], value: object, *, unknown: Literal["ignore", "reject"] = "ignore") -> T:
    """Build dataclass `cls` from already-parsed JSON data, checking every field. unknown: what
    a key that names no field is: ignored (a newer sender's addition), or an error (a file an
    author wrote: a typo must not pass silently)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    try:
        return typing.cast(T, _Builder(reject_unknown=unknown == "reject").value(
            cls, value, "", None, 0))
    except RecursionError:
        raise DecodeError("nested too deeply") from None


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any, int | None, bool, Mapping[str, Any]], ...]:
    """(name, type, entry cap or None, required, metadata) per field: get_type_hints is slow, so
    once per class."""
    hints = get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.metadata.get("max_items"),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            f.metadata,
        )
        for f in dataclasses.fields(cls)
    )


def _check_text(value: object, path: str, metadata: Mapping[str, Any]) -> None:
    """A field's own bounds on its text (or on each text of a list): `max_chars`, and
    `non_empty` (more than white space)."""
    texts = value if isinstance(value, list) else [value]
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            continue
        where = f"{path}[{i}]" if isinstance(value, list) else path
        limit = metadata.get("max_chars")
        if limit is not None and len(text) > limit:
            raise DecodeError(f"{len(text)} characters (at most {limit})", where)
        if metadata.get("non_empty") and not text.strip():
            raise DecodeError("is empty", where)


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

    def __init__(self, reject_unknown: bool = False) -> None:
        self.budget = protocol.MAX_DECODED_OBJECTS
        self.reject_unknown = reject_unknown

    def spend(self, path: str) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise DecodeError(f"more than {protocol.MAX_DECODED_OBJECTS} objects in all", path)

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
                raise DecodeError(f"{_short(value)} is not one of {get_args(tp)}", path)
            return value
        if origin is list:
            (item,) = get_args(tp) or (Any,)
            if not isinstance(value, list):
                raise DecodeError(f"expected a list, got {_kind(value)}", path)
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
                raise DecodeError(f"expected an object, got {_kind(value)}", path)
            self.entries(len(value), cap or _default_cap(item), path)
            return {k: self.value(item, v, f"{path}.{k[:40]}", None, depth + 1)
                    for k, v in value.items()}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise DecodeError(f"expected an object, got {_kind(value)}", path)
            self.spend(path)
            fields = _fields(typing.cast(type, tp))
            if self.reject_unknown:
                known = {f[0] for f in fields}
                for key in value:
                    if key not in known:
                        raise DecodeError("is not a known field",
                                          f"{path}.{str(key)[:40]}" if path else str(key)[:40])
            kwargs: dict[str, object] = {}
            for name, field_type, field_cap, required, metadata in fields:
                sub = f"{path}.{name}" if path else name
                if name in value:
                    kwargs[name] = self.value(field_type, value[name], sub, field_cap, depth + 1)
                    _check_text(kwargs[name], sub, metadata)
                elif required:
                    raise DecodeError("is required", sub)
            return tp(**kwargs)
        return _scalar(tp, value, path, depth)

    def entries(self, count: int, cap: int, path: str) -> None:
        if count > cap:
            raise DecodeError(f"{count} entries (at most {cap})", path)
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
            raise DecodeError(f"{_short(value)} is not one of {get_args(tp)}", path)
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
                raise DecodeError("number out of range", path) from None
    else:
        raise TypeError(f"unsupported type {tp!r} in the protocol")
    raise DecodeError(f"has the wrong type: expected {tp.__name__}, got {_kind(value)}", path)


def _check_any(value: object, path: str, depth: int) -> None:
    """An `Any` field holds plain JSON data, nested at most MAX_DEPTH deep, MAX_ITEMS wide."""
    if depth > MAX_DEPTH:
        raise DecodeError("nested too deeply", path)
    if isinstance(value, list | dict):
        if len(value) > protocol.MAX_ITEMS:
            raise DecodeError(f"{len(value)} entries (at most {protocol.MAX_ITEMS})", path)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if not isinstance(key, str | int):
                raise DecodeError("a key is not a string", path)
            _check_any(item, f"{path}[{str(key)[:40]!r}]", depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise DecodeError(f"{_kind(value)} is not JSON data", path)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
