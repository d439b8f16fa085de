"""Share links: a page's state (snippet, code, toggles) packed into one URL query parameter.

The payload is JSON, zlib-compressed, base64url-encoded without padding, so that an instructor can
hand out a link that opens the same code in another browser. Decoding never trusts the link: size
limits come before and during decompression (a zip bomb stops at the cap), and every failure is a
ShareLinkError with a sentence the page can show.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from app.config import settings

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
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError) as exc:
        raise ShareLinkError(
            "This share link is damaged (it may have been cut off when it was copied); "
            "the page opened with its own code instead."
        ) from exc
    return _validated(payload)


def _validated(payload: Any) -> SharedState:
    damaged = ShareLinkError(
        "This share link is not one the playground made; the page opened with its own code."
    )
    if not isinstance(payload, dict) or payload.get("v") != FORMAT_VERSION:
        raise damaged
    snippet_id, code, extra = payload.get("s"), payload.get("c"), payload.get("x", {})
    if not isinstance(snippet_id, str) or not isinstance(code, str) or not isinstance(extra, dict):
        raise damaged
    if len(code.encode()) > _max_code_bytes():
        raise ShareLinkError(
            "This share link holds more code than the playground accepts; "
            "the page opened with its own code instead."
        )
    return SharedState(snippet_id=snippet_id, code=code, extra=extra)
