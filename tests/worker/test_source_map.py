"""Source <-> IR mapping: each IR line points at the line of the user's code it came from."""

from __future__ import annotations

import re

import pytest

from app.protocol import VIEW_NAMES
from app.worker import source_map

from .helpers import PRELUDE, inspect, steps

# A 6-line function; the prelude puts `def f` on line 4 of the snippet.
FUNCTION = (
    "def f(x, w):\n"
    "    y = x @ w\n"
    "    z = jnp.sin(y)\n"
    "    e = jnp.exp(z)\n"
    "    m = jnp.max(e)\n"
    "    return m * 3.0\n"
)
ARGS = "(jnp.ones((4, 3)), jnp.ones((3, 5)))"
FIRST = PRELUDE.count("\n") + 1  # the line of `def f`
LINE_OF = {"matmul": FIRST + 1, "sin": FIRST + 2, "exp": FIRST + 3, "max": FIRST + 4,
           "mul": FIRST + 5}

# The op each view prints for each line of the function.
JAXPR_OPS = {"dot_general": "matmul", "sin": "sin", "exp": "exp", "reduce_max": "max",
             "mul": "mul"}
STABLEHLO_OPS = {"stablehlo.dot_general": "matmul", "stablehlo.sine": "sin",
                 "stablehlo.exponential": "exp", "stablehlo.multiply": "mul"}
HLO_OPS = {"dot": "matmul", "sine": "sin", "exponential": "exp", "multiply": "mul"}

_JAXPR_OP = re.compile(r"=\s([a-z_]+)[\[ ]")
_STABLEHLO_OP = re.compile(r"=\s*(stablehlo\.[a-z_]+)")
_HLO_OP = re.compile(r"=\s*\S+\s([a-z\-]+)\(")


@pytest.fixture(scope="module")
def jitted():
    return inspect(FUNCTION, "f", ARGS, steps("jit"), views=list(VIEW_NAMES)).result


@pytest.fixture(scope="module")
def gradient():
    return inspect(FUNCTION, "f", "(jnp.ones((4, 3)) * 0.1, jnp.ones((3, 5)))", steps("grad"),
                   views=["jaxpr"]).result


def _mapped_ops(text: str, lines: list[int | None], pattern: re.Pattern[str],
                ops: dict[str, str]) -> list[tuple[str, int | None]]:
    """(op, mapped line) for every line of the listing whose op is one of `ops`."""
    assert len(lines) == len(text.splitlines()) or len(lines) == text.count("\n") + 1
    found = []
    for line, number in zip(text.split("\n"), lines, strict=True):
        match = pattern.search(line)
        if match and match[1] in ops:
            found.append((match[1], number))
    return found


@pytest.mark.parametrize(("view", "pattern", "ops"), [
    ("jaxpr", _JAXPR_OP, JAXPR_OPS),
    ("stablehlo", _STABLEHLO_OP, STABLEHLO_OPS),
    ("hlo", _HLO_OP, HLO_OPS),
])
def test_each_op_line_points_at_the_line_that_made_it(jitted, view, pattern, ops) -> None:
    text, lines = getattr(jitted, view), jitted.source_lines[view]
    found = _mapped_ops(text, lines, pattern, ops)
    mapped = [(op, number) for op, number in found if number is not None]
    assert {op for op, _ in mapped} == set(ops), (view, found)  # every line's op is there
    for op, number in mapped:
        assert number == LINE_OF[ops[op]], (view, op, number)
    # Only lines of the function (or None): never a line of the prelude or out of range.
    assert {n for n in lines if n is not None} <= set(LINE_OF.values())


def test_one_entry_per_line_of_each_view(jitted) -> None:
    for view in ("jaxpr", "stablehlo", "hlo"):
        assert len(jitted.source_lines[view]) == getattr(jitted, view).count("\n") + 1


def test_the_stablehlo_listing_is_jaxs_own_text_without_locations(jitted) -> None:
    assert "loc(" not in jitted.stablehlo and "#loc" not in jitted.stablehlo
    assert jitted.stablehlo.startswith("module @jit_f")


def test_grad_maps_backward_equations_to_the_forward_lines(gradient) -> None:
    text, lines = gradient.jaxpr, gradient.source_lines["jaxpr"]
    pairs = [(m[1], n) for line, n in zip(text.split("\n"), lines, strict=True)
             if (m := _JAXPR_OP.search(line))]
    # The matmul appears twice: forward, and its transpose in the backward pass.
    assert [n for op, n in pairs if op == "dot_general"] == [LINE_OF["matmul"]] * 2
    # sin's derivative (cos) and exp's (a mul by exp) belong to their forward lines.
    assert ("cos", LINE_OF["sin"]) in pairs
    assert sum(1 for op, n in pairs if n == LINE_OF["exp"]) >= 2


OUTSIDE = (
    "library = {'jnp': jnp}\n"
    "exec(compile('def g(x):\\n    return jnp.cos(x) * 2.0\\n', '<library>', 'exec'), library)\n"
    "g = library['g']\n"
    "def f(x):\n"
    "    return g(x) + 1.0\n"
)


def test_frames_outside_the_snippet_map_to_none() -> None:
    result = inspect(OUTSIDE, "g", "(jnp.ones(3),)", steps("jit"),
                     views=["jaxpr", "stablehlo", "hlo"]).result
    for view in ("jaxpr", "stablehlo", "hlo"):
        assert set(result.source_lines[view]) == {None}, view
    assert "<library>" not in result.hlo  # a non-snippet file never reaches the HLO's tables


def test_a_library_call_maps_to_the_snippet_line_that_called_it() -> None:
    result = inspect(OUTSIDE, "f", "(jnp.ones(3),)", steps("jit"), views=["jaxpr"]).result
    call_line = FIRST + OUTSIDE.splitlines().index("    return g(x) + 1.0")
    pairs = [(m[1], n) for line, n in zip(result.jaxpr.split("\n"),
                                          result.source_lines["jaxpr"], strict=True)
             if (m := _JAXPR_OP.search(line))]
    assert ("cos", call_line) in pairs and ("add", call_line) in pairs


def test_hlo_file_table_names_only_the_snippet(jitted) -> None:
    table = jitted.hlo.split("FileNames", 1)[1].split("FunctionNames", 1)[0]
    assert re.findall(r'"([^"]*)"', table) == ["<snippet>"]


def test_ops_are_reported_per_view(jitted) -> None:
    assert {"dot_general", "sin", "exp", "reduce_max", "mul", "jit"} <= set(jitted.ops["jaxpr"])
    assert "stablehlo.sine" in jitted.ops["stablehlo"]
    assert "mhlo.num_partitions" not in jitted.ops["stablehlo"]  # an attribute, not an op
    assert {"dot", "sine", "parameter"} <= set(jitted.ops["hlo"])


def test_location_parser_walks_aliases_callsites_and_fusions() -> None:
    aliases = {"#loc1": '"<snippet>":7:3', "#loc2": '"other.py":9:1',
               "#loc3": 'callsite(#loc2 at #loc1)', "#loc4": '"jit(f)/mul"(#loc3)'}
    assert source_map._loc_line("#loc4", aliases) == 7
    assert source_map._loc_line('fused["x", "<snippet>":12:4 to :9]', {}) == 12
    assert source_map._loc_line("unknown", {}) is None
    assert source_map._loc_line('"x"', {}) is None
    stripped, found = source_map._strip_locs('%0 = stablehlo.add %a, %b : tensor<f32> loc(#loc4)')
    assert stripped == "%0 = stablehlo.add %a, %b : tensor<f32>" and found == ["#loc4"]


def test_old_hlo_metadata_form_is_read_too() -> None:
    text = ('HloModule m\n\nENTRY %main {\n  ROOT %s = f32[] sine(%p), metadata={op_name="x" '
            'source_file="<snippet>" source_line=12}\n}')
    assert source_map.hlo_source_lines(text) == [None, None, None, 12, None]


def test_foreign_files_are_scrubbed_where_jax_kept_them() -> None:
    text = ('HloModule m\n\nFileNames\n1 "/srv/app/runner/zygote/fork_server.py"\n2 "<snippet>"\n\n'
            'FunctionNames\n1 "Zygote._fork"\n2 "f"\n\nFileLocations\n'
            '1 {file_name_id=1 function_name_id=1 line=80 end_line=80 column=1 end_column=2}\n'
            '2 {file_name_id=2 function_name_id=2 line=5 end_line=5 column=1 end_column=2}\n\n'
            'ENTRY %main {\n  %a = f32[] sine(%p), metadata={'
            'op_name="x" source_file="/srv/app/worker/inspection.py" source_line=3}\n}')
    scrubbed = source_map.scrub_foreign_files(text)
    assert "zygote" not in scrubbed and "inspection" not in scrubbed and "_fork" not in scrubbed
    assert '2 "f"' in scrubbed
    assert '1 "<not your code>"' in scrubbed and '2 "<snippet>"' in scrubbed
    assert source_map.hlo_source_lines(scrubbed)[-2] is None
