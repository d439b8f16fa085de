"""The strict, bounded decoder (app/decoding.py) and the off-loop report decoder, without runs.

Property tests (hypothesis) over random bytes, random JSON and mutated real reports: decoding
returns a report whose every field has its declared type and respects its caps, or raises
DecodeError; nothing else, ever.
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import time
import types
import typing
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import decoding, protocol
from app.protocol import (
    RunResult,
    WorkerReport,
)
from app.runner.supervisor import report_decoder
from tests.runner.report_strategies import FIELD_NAMES, REAL_REPORT, json_values, mutated_reports

MAX_BYTES = 1 << 20

def well_typed(tp: Any, value: object, cap: int | None = None) -> bool:
    """Whether a built value has exactly the declared type, within the caps."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return value is None or well_typed(
            next(a for a in get_args(tp) if a is not type(None)), value, cap)
    if origin is Literal:
        return value in get_args(tp)
    if origin is list:
        cap = cap or decoding._default_cap(get_args(tp)[0])
        return (isinstance(value, list) and len(value) <= cap
                and all(well_typed(get_args(tp)[0], v) for v in value))
    if origin is dict:
        cap = cap or decoding._default_cap(get_args(tp)[1])
        return (isinstance(value, dict) and len(value) <= cap
                and all(isinstance(k, str) and well_typed(get_args(tp)[1], v)
                        for k, v in value.items()))
    if dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        return isinstance(value, tp) and all(
            well_typed(hints[f.name], getattr(value, f.name), f.metadata.get("max_items"))
            for f in dataclasses.fields(tp))
    if tp is Any:
        return True
    if tp is float:
        return type(value) is float
    return type(value) is tp


def check_never_raises_otherwise(data: bytes | str) -> None:
    try:
        report = decoding.decode(WorkerReport, data, max_bytes=MAX_BYTES)
    except decoding.DecodeError:
        return
    assert well_typed(WorkerReport, report)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_decode_error(data: bytes) -> None:
    check_never_raises_otherwise(data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8))
def test_random_json_objects_decode_to_well_typed_reports_or_fail_cleanly(value: dict) -> None:
    check_never_raises_otherwise(json.dumps(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_reports())
def test_mutated_real_reports_decode_to_well_typed_reports_or_fail_cleanly(data: bytes) -> None:
    check_never_raises_otherwise(data)


def _wide_tree(width: int, below: int) -> dict[str, object]:
    leaf = {"path": "", "kind": "scalar", "summary": ""}
    return {"path": "", "kind": "list", "summary": "",
            "children": [{**leaf, "children": [leaf] * below}] * width}


@pytest.mark.parametrize("data", [
    b"[" * 200_000, b"{\"a\":" * 100_000, b'{"error": 5}', b'{"error": {"type": "E"}}',
    b'{"value_repr": 1e999}', b'{"compilations": [{"function": "f", "count": true}]}',
    b'{"compilations": [{"function": "f", "count": 1, "reasons": ["x", 2]}]}',
    b'{"inspect": {"cost": {"flops": "many"}}}', b'{"inspect": {"cost": [1]}}',
    b'{"platform": ["cpu"]}', b"\xff\xfe", b'"just a string"', b"1" * 5000, b"",
    json.dumps({"inspect": {"in_shapes": ["x"] * (protocol.MAX_SCALAR_ITEMS + 1)}}).encode(),
    json.dumps({"inspect": {"passes": [{"index": 0, "pipeline": "", "name": ""}]
                            * (protocol.MAX_PASS_DUMPS + 1)}}).encode(),
    json.dumps({"value_tree": _wide_tree(150, 150)}).encode(),  # 22k nodes: over the budget
    json.dumps({"compilations": [{"function": "f", "count": 1,
                                  "reasons": ["r"] * (protocol.MAX_REASONS + 1)}]}).encode(),
])
def test_adversarial_reports_raise_decode_error(data: bytes) -> None:
    with pytest.raises(decoding.DecodeError):
        decoding.decode(WorkerReport, data, max_bytes=MAX_BYTES)


def test_a_real_report_round_trips_and_unknown_keys_are_ignored() -> None:
    data = dict(protocol.to_dict(REAL_REPORT), added_by_a_newer_worker={"x": 1})
    assert decoding.decode(WorkerReport, json.dumps(data), max_bytes=MAX_BYTES) == REAL_REPORT


def test_size_is_checked_before_parsing() -> None:
    with pytest.raises(decoding.DecodeError, match="at most 10"):
        decoding.decode(WorkerReport, b"{}" + b" " * 20, max_bytes=10)


def test_a_run_result_is_typed_too() -> None:
    result = RunResult(status="ok", output=[protocol.OutputChunk("stdout", "1\n")])
    assert decoding.build(RunResult, protocol.to_dict(result)) == result
    with pytest.raises(decoding.DecodeError, match="status"):
        decoding.build(RunResult, {"status": "owned"})
    with pytest.raises(decoding.DecodeError, match="output"):
        decoding.build(RunResult, {"status": "ok", "output": [{"stream": "stdin", "text": ""}]})


def test_the_300k_entry_report_costs_little_to_refuse() -> None:
    """Issue 9, item 3: the report that took 13 s of supervisor CPU to parse; the cap refuses
    it after one C-level parse, without building 300k objects."""
    entry = b'{"function":"f","count":1}'
    data = b'{"compilations":[' + b",".join([entry] * 300_000) + b"]}"
    started = time.process_time()
    with pytest.raises(decoding.DecodeError, match="300000 entries"):
        decoding.decode(WorkerReport, data, max_bytes=8 << 20)
    assert time.process_time() - started < 5.0  # measured ~0.15 s; 13 s before the caps


# -- the off-loop decoder ---------------------------------------------------------------------


def _decode_off_loop(data: bytes, max_bytes: int = 8 << 20) -> protocol.WorkerReport | str:
    selector = selectors.DefaultSelector()
    decoders = report_decoder.Decoders(selector, max_bytes)
    assert decoders.start(data) is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for key, _ in selector.select(0.5):
            done = decoders.on_readable(key.fd)
            if done is not None:
                decoded = done[1]
                return decoded.report if decoded.report is not None else decoded.problem
    raise AssertionError("the decoder never answered")


def test_the_off_loop_decoder_returns_the_checked_report() -> None:
    big = dataclasses.replace(REAL_REPORT, value_repr="é" * 100_000 + "\ud800")
    assert _decode_off_loop(protocol.to_json(big).encode()) == big


def test_the_off_loop_decoder_says_why_a_report_is_refused() -> None:
    assert _decode_off_loop(b"[" * 300_000) == "nested too deeply"
    assert "not JSON" in str(_decode_off_loop(b"{" + b" " * 100_000))


def _alive(pid: int) -> bool:
    """Running, not a zombie (a zombie's descriptor table reads empty)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_decoder_holds_no_descriptor_of_the_supervisor() -> None:
    """A decoder holding a copy of a run's request pipe would keep that run waiting for its end
    of file (and so its start) until the decoder exits."""
    request_r, request_w = os.pipe()
    selector = selectors.DefaultSelector()
    decoders = report_decoder.Decoders(selector, 64 << 20)
    slow = b"[" + b"0," * 12_000_000 + b"0]"  # ~24 MB: it decodes for a while
    assert decoders.start(slow) is not None
    [job] = decoders.jobs.values()
    os.close(request_w)
    try:
        seen: set[int] | None = None  # the decoder's descriptors while it is still decoding
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(job.pid):
            seen = {int(fd) for fd in os.listdir(f"/proc/{job.pid}/fd")}
            if len(seen) <= 4:  # done closing: stdin, stdout, stderr, its answer pipe
                break
            time.sleep(0.005)
        assert seen is not None and request_w not in seen and len(seen) <= 4, seen
        os.set_blocking(request_r, False)
        assert os.read(request_r, 1) == b""  # the run would see its end of file
    finally:
        decoders.close()
        os.close(request_r)


def test_a_decoder_past_its_clock_is_killed_and_its_run_told() -> None:
    selector = selectors.DefaultSelector()
    decoders = report_decoder.Decoders(selector, 8 << 20)
    key = decoders.start(b'{"value_repr": "x"}')
    [(done_key, decoded)] = decoders.expired(time.monotonic() + report_decoder.DECODE_TIMEOUT_S)
    assert done_key == key and "took longer" in decoded.problem
    assert len(decoders) == 0 and decoders.close() == []
