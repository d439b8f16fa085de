"""Share links: round trip, and every kind of bad link refused with a notice."""

from __future__ import annotations

import base64
import json
import random
import zlib

import pytest

from app.config import settings
from app.ui.share import MAX_PARAM_CHARS, SharedState, ShareLinkError, decode, encode


def _token(payload: object) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=")


def test_round_trip_keeps_code_and_toggles() -> None:
    state = SharedState("core-transformations/grad", "x = 1  # é ✓\nprint(x)\n",
                        {"inspect": True, "a": ["grad", "jit"]})
    token = encode(state)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode(token) == state


def test_compression_makes_repetitive_code_short() -> None:
    code = "y = jnp.sum(x ** 2)\n" * 200
    assert len(encode(SharedState("s", code))) < len(code) / 10


def test_truncated_link_is_damaged() -> None:
    token = encode(SharedState("s", "print('hello world')\n" * 5))
    with pytest.raises(ShareLinkError, match="damaged"):
        decode(token[: len(token) // 2])


def test_garbage_is_damaged() -> None:
    with pytest.raises(ShareLinkError, match="damaged"):
        decode("not*base64!")


def test_foreign_payload_is_refused() -> None:
    with pytest.raises(ShareLinkError, match="not one the playground made"):
        decode(_token({"v": 99, "s": "x", "c": "y"}))
    with pytest.raises(ShareLinkError, match="not one the playground made"):
        decode(_token({"v": 1, "s": 3, "c": "y"}))


def test_too_long_link_is_refused_before_decoding() -> None:
    with pytest.raises(ShareLinkError, match="too long"):
        decode("A" * (MAX_PARAM_CHARS + 1))


def test_zip_bomb_stops_at_the_code_limit() -> None:
    code = "#" * (settings().code_bytes * 4)  # compresses to a few hundred bytes
    token = _token({"v": 1, "s": "x", "c": code})
    assert len(token) < MAX_PARAM_CHARS
    with pytest.raises(ShareLinkError, match="more code than the playground accepts"):
        decode(token)


def test_encode_refuses_code_that_cannot_fit() -> None:
    incompressible = base64.b64encode(random.Random(0).randbytes(9000)).decode()
    with pytest.raises(ShareLinkError, match="too long to share"):
        encode(SharedState("s", incompressible))
