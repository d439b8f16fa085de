"""Share links: round trip, and every kind of bad link refused with a notice (fuzzed too)."""

from __future__ import annotations

import base64
import json
import random
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import settings as app_settings
from app.ui.share import (
    EXTRA_FIELDS,
    MAX_PARAM_CHARS,
    SharedState,
    ShareLinkError,
    decode,
    encode,
)


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
    code = "#" * (app_settings().code_bytes * 4)  # compresses to a few hundred bytes
    token = _token({"v": 1, "s": "x", "c": code})
    assert len(token) < MAX_PARAM_CHARS
    with pytest.raises(ShareLinkError, match="more code than the playground accepts"):
        decode(token)


def test_encode_refuses_code_that_cannot_fit() -> None:
    incompressible = base64.b64encode(random.Random(0).randbytes(9000)).decode()
    with pytest.raises(ShareLinkError, match="too long to share"):
        encode(SharedState("s", incompressible))


# --- payloads validated like a report (issue 9, item 6) --------------------------------------

def test_nesting_too_deep_for_the_parser_is_a_damaged_link() -> None:
    deep = base64.urlsafe_b64encode(zlib.compress(b"[" * 150_000, 9)).decode().rstrip("=")
    assert len(deep) < MAX_PARAM_CHARS
    with pytest.raises(ShareLinkError, match="damaged"):
        decode(deep)


@pytest.mark.parametrize("extra", [
    {"codes": 5}, {"codes": {"a": 5}}, {"inspect": "yes"}, {"timeout": float("inf")},
    {"timeout": True}, {"timeout": -1}, {"a": "grad"}, {"a": ["grad", "launch"]},
    {"a_options": [{"argnums": 0}]}, {"stack_options": 3}, {"function": "f" * 1000},
    {"args": ["(x,)"]}, {"x64": 1}, {"codes": {str(i): "" for i in range(100)}},
    {"function": "\ud800"}, {"jax": 12}, {"jax": "../../etc"}, {"jax": "0.4" * 40},
    {"jax": "<b>0.4</b>"},
], ids=repr)
def test_a_field_of_the_wrong_type_or_size_is_refused(extra: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ShareLinkError, match="not one the playground made"):
        decode(_token({"v": 1, "s": "x", "c": "y", "x": extra}))


def test_a_jax_version_round_trips() -> None:
    assert decode(encode(SharedState("x", "y", {"jax": "0.12.0.1"}))).extra == {"jax": "0.12.0.1"}


def test_unknown_fields_are_dropped_and_known_ones_kept() -> None:
    shared = decode(_token({"v": 1, "s": "x", "c": "y", "x": {
        "future": {"deep": [1, 2]}, "x64": True, "timeout": 5, "stack": ["grad", "jit"],
        "stack_options": [{"argnums": "1"}, {}], "a_options": {"grad": {"argnums": "0"}}}}))
    assert shared.extra == {"x64": True, "timeout": 5.0, "stack": ["grad", "jit"],
                            "stack_options": [{"argnums": "1"}, {}],
                            "a_options": {"grad": {"argnums": "0"}}}


def test_a_bool_is_never_a_number_in_a_link() -> None:
    # The same rule as every other untrusted input (app/decoding.py): true is not version 1,
    # and a flag is not a timeout.
    for payload in ({"v": True, "s": "x", "c": "y"},
                    {"v": 1, "s": "x", "c": "y", "x": {"timeout": True}},
                    {"v": 1, "s": "x", "c": "y", "x": {"x64": 1}}):
        with pytest.raises(ShareLinkError):
            decode(_token(payload))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from([*sorted(EXTRA_FIELDS), "v", "s", "c", "x", "other"])
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries({"v": st.just(1), "s": st.text(max_size=30), "c": st.text(max_size=60),
                           "x": st.dictionaries(field_names, json_values, max_size=6)}),
)


def _check(token: str) -> None:
    """decode either gives typed state (what the pages rely on) or a ShareLinkError."""
    try:
        shared = decode(token)
    except ShareLinkError as exc:
        assert str(exc)
        return
    assert isinstance(shared.snippet_id, str) and isinstance(shared.code, str)
    assert set(shared.extra) <= set(EXTRA_FIELDS)
    for name, value in shared.extra.items():
        assert EXTRA_FIELDS[name](value) == value  # already in the checked form


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_fuzz_json_payloads_never_raise_anything_but_the_notice(payload: object) -> None:
    _check(_token(payload))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_fuzz_raw_bytes_and_text_never_raise_anything_but_the_notice(data: bytes | str) -> None:
    if isinstance(data, str):
        _check(data)
    else:
        _check(base64.urlsafe_b64encode(zlib.compress(data)).decode().rstrip("="))
        _check(base64.urlsafe_b64encode(data).decode().rstrip("="))
