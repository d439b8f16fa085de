"""Report payloads for property tests: a real report, random JSON, real reports mutated.

Shared by the decoder's tests and the end-to-end attacks; imports only the protocol.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import strategies as st

from app import protocol
from app.protocol import (
    Compilation,
    ErrorInfo,
    InspectResult,
    StepTiming,
    Timings,
    WorkerReport,
)

REAL_REPORT = WorkerReport(
    error=ErrorInfo("ValueError", "bad", line=3, traceback="tb", advice=None),
    value_repr="Array([1, 2], dtype=int32)",
    inspect=InspectResult(
        expression="jax.jit(f)", output_repr="3.0", jaxpr="{ lambda ; a:f32[]. }",
        cost={"flops": 3.0}, memory={"peak_memory_in_bytes": 16.0},
        devices=["cpu:0 (cpu)"], in_shapes=["args[0]: f32[]"], out_shapes=["f32[]"],
        timings=Timings(trace_lower_s=0.1, compile_s=0.2, first_call_s=0.01,
                        steady=StepTiming(0.001, 0.0009, 0.0002, 20, 5)),
        compilations=[Compilation("f (line 2)", 2, ["first compilation", "shape changed"])],
        warnings=["w"], truncated_views=["hlo"],
    ),
    compilations=[Compilation("g (line 5)", 1, ["first compilation"])],
    platform="cpu",
)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=40,
)
FIELD_NAMES = sorted({f.name for cls in (WorkerReport, InspectResult, ErrorInfo, Compilation,
                                         Timings, StepTiming) for f in dataclasses.fields(cls)})


@st.composite
def mutated_reports(draw: st.DrawFn) -> bytes:
    """A real report with one value somewhere replaced by something else."""
    tree = protocol.to_dict(REAL_REPORT)
    node: Any = tree
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(json_values | st.just([{}] * (protocol.MAX_ITEMS + 1)))
        break
    return json.dumps(tree).encode()


