"""Share links: a page's state (snippet, code, toggles) packed into one URL query parameter.

The payload is JSON, zlib-compressed, base64url-encoded without padding, so that an instructor can
hand out a link that opens the same code in another browser. Decoding never trusts the link: size
limits come before and during decompression (a zip bomb stops at the cap), nesting too deep for the
JSON parser is refused, and every field is checked against the schema below by app/decoding.py,
the validator of all untrusted structured input (its type and bounds; unknown fields are
dropped). Every failure is a ShareLinkError with a sentence the page can show,
and the page then opens as shipped.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app import decoding, runtimes
from app.config import settings
from app.protocol import TRANSFORM_NAMES, TransformName

QUERY_PARAM = "share"
FORMAT_VERSION = 1
# A URL this long still works in every current browser and proxy we know of (most allow 8 KiB+).
MAX_PARAM_CHARS = 8000


class ShareLinkError(ValueError):
    """A link that cannot be restored; str(error) is the notice shown to the user."""


@dataclass
class SharedState:
    snippet_id: str  # "" for the Playground's blank snippet
    code: str
    extra: dict[str, Any] = field(default_factory=dict)  # page toggles: transforms, x64, ...


def _max_code_bytes() -> int:
    return settings().code_bytes


def encode(state: SharedState) -> str:
    """The query-parameter value for state; raises ShareLinkError if the link would be too long."""
    payload = {"v": FORMAT_VERSION, "s": state.snippet_id, "c": state.code, "x": state.extra}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    if len(token) > MAX_PARAM_CHARS:
        raise ShareLinkError(
            f"This code is too long to share as a link ({len(token)} characters after "
            f"compression, at most {MAX_PARAM_CHARS}). Shorten it, or share the file instead."
        )
    return token


def decode(token: str) -> SharedState:
    """Inverse of encode, for untrusted input."""
    if len(token) > MAX_PARAM_CHARS:
        raise ShareLinkError(
            f"This share link is too long ({len(token)} characters, at most {MAX_PARAM_CHARS}); "
            "the page opened with its own code instead."
        )
    try:
        compressed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        limit = _max_code_bytes() * 2 + 4096  # JSON escaping can double the code, plus toggles
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, limit)
        if inflater.unconsumed_tail:
            raise ShareLinkError(
                "This share link holds more code than the playground accepts; "
                "the page opened with its own code instead."
            )
        payload = json.loads(raw)
    except ShareLinkError:
        raise
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ShareLinkError(
            "This share link is damaged (it may have been cut off when it was copied); "
            "the page opened with its own code instead."
        ) from exc
    return _validated(payload)


class _Invalid(ValueError):
    """A field of the payload has the wrong type or is out of bounds."""


MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200  # a function's name
MAX_ARGS_CHARS = 2_000  # the example-arguments expression
MAX_STEPS = 16  # wrappers in one stack
MAX_OPTION_CHARS = 200  # one option's text, e.g. "(None, 0)"
MAX_CODES = 8  # extra editors' code carried along (a gotcha pair's other side)
MAX_TIMEOUT_S = 3_600.0  # far above any limit; the page clamps to the server's own


def _utf8_size(value: str) -> int:
    """Bytes as UTF-8; a lone surrogate (valid JSON, not valid text) makes the link invalid."""
    try:
        return len(value.encode())
    except UnicodeEncodeError:
        raise _Invalid from None


def _string(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise _Invalid
        _utf8_size(value)
        return value
    return check


def _option_texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > 8:
        raise _Invalid
    return {_string(40)(k): _string(MAX_OPTION_CHARS)(v) for k, v in value.items()}


def _step_options(value: Any) -> list[dict[str, str]] | dict[str, dict[str, str]]:
    """One dict of option texts per step; or, in links made before a wrapper could repeat, one
    per wrapper name."""
    if isinstance(value, list) and len(value) <= MAX_STEPS:
        return [_option_texts(texts) for texts in value]
    if isinstance(value, dict) and set(value) <= set(TRANSFORM_NAMES):
        return {name: _option_texts(texts) for name, texts in value.items()}
    raise _Invalid


def _texts(value: object) -> None:
    """Every text in a checked value encodes as UTF-8 (JSON allows a lone surrogate; text does
    not)."""
    if isinstance(value, str):
        _utf8_size(value)
    elif isinstance(value, list):
        for item in value:
            _texts(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _texts(key)
            _texts(item)


_STEPS = {"max_items": MAX_STEPS}


@dataclass(frozen=True)
class _Extra:
    """Every field a page may put into a link: its type and bounds, checked by app/decoding.py
    (a bool is never a number; unknown fields are dropped), then the checks below."""

    inspect: bool | None = None  # section pages and the Playground
    # the gotcha pair's NumPy side
    codes: dict[str, str] | None = field(default=None, metadata={"max_items": MAX_CODES})
    x64: bool | None = None  # the Playground's options
    timeout: float | None = None
    # the Playground and the Transform Lab
    function: str | None = field(default=None, metadata={"max_chars": MAX_NAME_CHARS})
    args: str | None = field(default=None, metadata={"max_chars": MAX_ARGS_CHARS})
    stack: list[TransformName] | None = field(default=None, metadata=_STEPS)
    stack_options: Any = None  # see _step_options
    compare: bool | None = None  # the Transform Lab's two stacks
    passes: bool | None = None  # the XLA pass dump (Playground and Transform Lab)
    a: list[TransformName] | None = field(default=None, metadata=_STEPS)
    b: list[TransformName] | None = field(default=None, metadata=_STEPS)
    a_options: Any = None
    b_options: Any = None
    jax: str | None = None  # the JAX runtime it ran on (every page): app.runtimes.ID_PATTERN


@dataclass(frozen=True)
class _Payload:
    v: int
    s: str = field(metadata={"max_chars": MAX_ID_CHARS})
    c: str
    x: _Extra = field(default_factory=_Extra)


def _checked_extra(extra: _Extra, present: set[str]) -> dict[str, Any]:
    """The fields the link holds, after the checks a type cannot say."""
    values = {name: getattr(extra, name) for name in EXTRA_NAMES
              if name in present and getattr(extra, name) is not None}
    timeout = values.get("timeout")
    if timeout is not None and (not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT_S):
        raise _Invalid
    codes = values.get("codes", {})
    if any(len(name) > MAX_ID_CHARS for name in codes):
        raise _Invalid
    if sum(_utf8_size(code) for code in codes.values()) > _max_code_bytes():
        raise _Invalid
    if "jax" in values and not runtimes.ID_PATTERN.match(values["jax"]):
        raise _Invalid
    for name in ("stack_options", "a_options", "b_options"):
        if name in values:
            values[name] = _step_options(values[name])
    _texts(values)
    return values


EXTRA_NAMES = tuple(f.name for f in dataclasses.fields(_Extra))


def _check_field(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            extra = decoding.build(_Extra, {name: value})
        except decoding.DecodeError:
            raise _Invalid from None
        value = _checked_extra(extra, {name}).get(name)
        if value is None:
            raise _Invalid
        return value
    return check


# Every field a page may put into a link, and its check (one field alone).
EXTRA_FIELDS: dict[str, Callable[[Any], Any]] = {name: _check_field(name) for name in EXTRA_NAMES}


def _validated(payload: Any) -> SharedState:
    damaged = ShareLinkError(
        "This share link is not one the playground made; the page opened with its own code."
    )
    try:
        checked = decoding.build(_Payload, payload)
        if checked.v != FORMAT_VERSION:
            raise _Invalid
        _texts(checked.s)
        code_bytes = _utf8_size(checked.c)
        present = set(payload.get("x", {}))
        valid_extra = _checked_extra(checked.x, present)
    except (decoding.DecodeError, _Invalid):
        raise damaged from None
    if code_bytes > _max_code_bytes():
        raise ShareLinkError(
            "This share link holds more code than the playground accepts; "
            "the page opened with its own code instead."
        )
    return SharedState(snippet_id=checked.s, code=checked.c, extra=valid_extra)
