"""The other insight views of the worker: XLA's pass dumps (and their caps), JAX's own stage
timings, the profile timeline, and values as trees."""

from __future__ import annotations

import itertools
import math
import tempfile

import pytest

from app.protocol import MAX_VALUE_NODES, ProfileEvent
from app.worker import passes, profile
from app.worker.values import value_tree

from .helpers import inspect, steps

FUNCTION = (
    "def f(x):\n"
    "    y = jnp.sin(x) * 2.0\n"
    "    return jnp.sum(jnp.tanh(y) ** 2)\n"
)
ARGS = "(jnp.linspace(0.0, 1.0, 64),)"


@pytest.fixture(scope="module")
def everything():
    return inspect(FUNCTION, "f", ARGS, steps("grad", "jit"), views=["hlo"], timings=True,
                   passes=True, profile=True).result


def test_pass_dumps_come_in_xla_order_and_collapse_unchanged_ones(everything) -> None:
    dumps = everything.passes
    assert dumps, everything.passes_note
    assert dumps[0].name == "before optimizations" and dumps[0].text is not None
    assert dumps[-1].name == "after optimizations"
    assert [d.index for d in dumps] == list(range(len(dumps)))
    changed = [d for d in dumps if d.text is not None]
    assert any(d.text is None for d in dumps)  # pipeline starts that changed nothing
    assert all(a.text != b.text for a, b in itertools.pairwise(changed))
    assert all(d.text is None or d.text.startswith("HloModule") for d in dumps)
    # Fusion happened somewhere in between: the last state fuses, the first does not.
    assert "fusion" not in changed[0].text and "fusion" in changed[-1].text


def test_the_final_dump_is_the_compiled_module(everything) -> None:
    final = [d for d in everything.passes if d.text is not None][-1].text
    assert final.split("\n", 1)[0].split(",")[0] == everything.hlo.split("\n", 1)[0].split(",")[0]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _lowered():
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda x: jnp.sum(jnp.tanh(jnp.sin(x) * 2.0) ** 2)).trace(
        jnp.ones(64)).lower()


def test_the_pass_dump_honours_its_caps(private_tmp) -> None:
    lowered = _lowered()
    caps = passes.Caps(dumps=6, dump_chars=400, total_chars=1000)
    dumps, note = passes.dump_passes(lowered, len(lowered.as_text()), caps)
    assert 0 < len(dumps) <= 6
    texts = [d.text for d in dumps if d.text is not None]
    marker = "\n... [cut at 400 characters]"
    assert all(len(t) <= 400 + len(marker) for t in texts)
    assert sum(len(t) for t in texts) <= 1000 + len(marker) * len(texts)
    assert "cap: 6" in note and "cut at 400" in note
    assert list(private_tmp.iterdir()) == []  # the dump folder is gone afterwards


def test_no_dump_when_it_would_not_fit_the_scratch(private_tmp) -> None:
    lowered = _lowered()
    dumps, note = passes.dump_passes(lowered, len(lowered.as_text()), passes.Caps(disk_bytes=1))
    assert dumps == [] and note.startswith("Not dumped") and "cap: 0 KiB" in note
    assert list(private_tmp.iterdir()) == []


def test_stage_times_are_jaxs_own(everything) -> None:
    timings = everything.timings
    assert timings.split_source == "jax.monitoring"
    assert timings.trace_s > 0 and timings.lower_s > 0 and timings.compile_s > 0
    assert timings.trace_lower_s == pytest.approx(timings.trace_s + timings.lower_s)


def test_profile_has_the_compiled_ops_on_a_timeline(everything) -> None:
    prof = everything.profile
    assert 1 <= prof.calls <= profile.MAX_CALLS
    assert prof.events and all(e.duration_us > 0 and e.start_us >= 0 for e in prof.events)
    assert min(e.start_us for e in prof.events) == 0
    names = {e.name for e in prof.events}
    # Every op of the entry computation that runs on XLA's threads names an HLO instruction.
    entry = everything.hlo.split("ENTRY", 1)[1]
    assert any(name in entry for name in names), names
    assert not any(e.name.startswith(("$", "ThreadpoolListener")) for e in prof.events)


def test_profile_keeps_the_longest_events_under_its_cap(monkeypatch, private_tmp) -> None:
    import jax
    import jax.numpy as jnp

    monkeypatch.setattr(profile, "MAX_EVENTS", 3)
    f = jax.jit(lambda x: jnp.tanh(x @ x))
    x = jnp.ones((64, 64))
    f(x).block_until_ready()
    result = profile.profile_calls(f, lambda: (x,), jax.block_until_ready)
    assert len(result.events) == 3 and result.dropped > 0
    assert result.events == sorted(result.events, key=lambda e: e.start_us)
    assert isinstance(result.events[0], ProfileEvent)
    assert list(private_tmp.iterdir()) == []


def test_values_become_trees_with_shapes_and_statistics() -> None:
    import jax.numpy as jnp
    import numpy as np

    value = {"w": jnp.arange(12.0).reshape(3, 4), "b": np.array([1.0, np.nan]),
             "meta": [1, "two", None], "flag": jnp.array([True, False, True])}
    tree = value_tree(value)
    nodes = {child.path: child for child in tree.children}
    assert tree.kind == "dict" and set(nodes) == {"['w']", "['b']", "['meta']", "['flag']"}
    assert nodes["['w']"].summary.startswith("f32[3,4]")
    assert "mean 5.5" in nodes["['w']"].summary and "max 11" in nodes["['w']"].summary
    assert "non-finite 1" in nodes["['b']"].summary
    assert "true 2 of 3" in nodes["['flag']"].summary
    assert [c.kind for c in nodes["['meta']"].children] == ["scalar", "str", "none"]


def test_value_trees_are_bounded() -> None:
    tree = value_tree(list(range(1000)))
    assert len(tree.children) == 50 and tree.more == 950

    def count(node) -> int:
        return 1 + sum(count(c) for c in node.children)

    wide = value_tree([[i, i + 1] for i in range(500)])
    assert count(wide) <= MAX_VALUE_NODES + 1
    deep: list = [1]
    for _ in range(30):
        deep = [deep]
    depth, node = 0, value_tree(deep)
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth <= 8 and len(node.summary) <= 240
    long_keys = value_tree({"k" * 150: {"q" * 150: 1}})
    assert len(long_keys.children[0].children[0].path) <= 200


def test_a_broken_repr_does_not_lose_the_tree() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    tree = value_tree({"x": Broken(), "y": math.pi})
    assert tree.children[0].summary == "<repr failed: RuntimeError>"
    assert tree.children[1].summary.startswith("3.14")


def test_last_expression_and_inspect_output_come_with_trees() -> None:
    from app.protocol import RunRequest
    from app.worker.execute import execute

    report, _ = execute(RunRequest("import jax.numpy as jnp\n{'a': jnp.ones((2, 2))}\n"))
    assert report.value_tree.children[0].summary.startswith("f32[2,2]")
    result = inspect(FUNCTION, "f", ARGS, steps("jit")).result
    assert result.output_tree.kind == "array" and result.output_tree.summary.startswith("f32[]")
