"""Share links: a page's state (snippet, code, toggles) packed into one URL query parameter.

The payload is JSON, zlib-compressed, base64url-encoded without padding, so that an instructor can
hand out a link that opens the same code in another browser. Decoding never trusts the link: size
limits come before and during decompression (a zip bomb stops at the cap), nesting too deep for the
JSON parser is refused, and every field is checked against the schema below (its type and bounds;
unknown fields are dropped). Every failure is a ShareLinkError with a sentence the page can show,
and the page then opens as shipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app import runtimes
from app.config import settings
from app.protocol import TRANSFORM_NAMES

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


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise _Invalid
    return float(value)


def _runtime_id(value: Any) -> str:
    if not isinstance(value, str) or not runtimes.ID_PATTERN.match(value):
        raise _Invalid
    return value


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_STEPS:
        raise _Invalid
    if not all(isinstance(name, str) and name in TRANSFORM_NAMES for name in value):
        raise _Invalid
    return list(value)


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


def _codes(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_CODES:
        raise _Invalid
    codes = {_string(MAX_ID_CHARS)(k): _string(_max_code_bytes())(v) for k, v in value.items()}
    if sum(_utf8_size(code) for code in codes.values()) > _max_code_bytes():
        raise _Invalid
    return codes


# Every field a page may put into a link, and its check.
EXTRA_FIELDS: dict[str, Callable[[Any], Any]] = {
    "inspect": _flag,  # section pages and the Playground
    "codes": _codes,  # the gotcha pair's NumPy side
    "x64": _flag,  # the Playground's options
    "timeout": _seconds,
    "function": _string(MAX_NAME_CHARS),  # the Playground and the Transform Lab
    "args": _string(MAX_ARGS_CHARS),
    "stack": _names,
    "stack_options": _step_options,
    "compare": _flag,  # the Transform Lab's two stacks
    "passes": _flag,  # the XLA pass dump (Playground and Transform Lab)
    "a": _names,
    "b": _names,
    "a_options": _step_options,
    "b_options": _step_options,
    "jax": _runtime_id,  # the JAX version it ran on (every page)
}


def _validated_extra(extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        raise _Invalid
    return {name: check(extra[name]) for name, check in EXTRA_FIELDS.items() if name in extra}


def _validated(payload: Any) -> SharedState:
    damaged = ShareLinkError(
        "This share link is not one the playground made; the page opened with its own code."
    )
    if not isinstance(payload, dict) or payload.get("v") != FORMAT_VERSION:
        raise damaged
    snippet_id, code, extra = payload.get("s"), payload.get("c"), payload.get("x", {})
    try:
        _string(MAX_ID_CHARS)(snippet_id)
        code_bytes = _utf8_size(code) if isinstance(code, str) else None
        if code_bytes is None:
            raise _Invalid
        valid_extra = _validated_extra(extra)
    except _Invalid:
        raise damaged from None
    if code_bytes > _max_code_bytes():
        raise ShareLinkError(
            "This share link holds more code than the playground accepts; "
            "the page opened with its own code instead."
        )
    return SharedState(snippet_id=snippet_id, code=code, extra=valid_extra)
