"""Insight views through the real sandbox: the IR and its metadata hold no frame but the user's
(the zygote, the child and the worker call the function: none of them may show), and the pass
dump and the profiler work under the sandbox's limits (scratch tmpfs, pids, seccomp)."""

from __future__ import annotations

import re

import pytest

from app.protocol import InspectRequest, RunRequest, RunResult, TransformStep
from app.runner.api.runner import Runner

CODE = (
    "import jax\n"
    "import jax.numpy as jnp\n"
    "\n"
    "def f(x):\n"
    "    return jnp.sum(jnp.sin(x) ** 2)\n"
    "\n"
    "x = jnp.linspace(0.0, 1.0, 5)\n"
    "{'x': x}\n"
)
PLAYGROUND_FILES = re.compile(r"zygote|child\.py|execute\.py|inspection\.py|transforms\.py|"
                              r"runpy|_fork|app/|site-packages", re.IGNORECASE)


@pytest.fixture(scope="module")
def inspected(runner: Runner) -> RunResult:
    request = RunRequest(CODE, inspect=InspectRequest(
        "f", "(x,)", [TransformStep("grad"), TransformStep("jit")],
        views=["jaxpr", "stablehlo", "hlo", "cost"], timings=True, passes=True, profile=True))
    result = runner.run(request)
    assert result.status == "ok", result
    assert result.inspect is not None and result.inspect.error is None, result.inspect
    return result


def test_ir_text_and_metadata_name_only_the_users_code(inspected: RunResult) -> None:
    inspect = inspected.inspect
    texts = {"jaxpr": inspect.jaxpr, "stablehlo": inspect.stablehlo, "hlo": inspect.hlo}
    texts.update({f"pass {d.index}": d.text for d in inspect.passes if d.text})
    for name, text in texts.items():
        assert text and not PLAYGROUND_FILES.search(text), (name, PLAYGROUND_FILES.search(text))
    files = re.findall(r'^\d+ "([^"]*)"$', inspect.hlo.split("FunctionNames")[0], re.MULTILINE)
    functions = re.findall(r'^\d+ "([^"]*)"$',
                           inspect.hlo.split("FunctionNames")[1].split("FileLocations")[0],
                           re.MULTILINE)
    assert files == ["<snippet>"] and functions == ["f"]
    assert 5 in inspect.source_lines["hlo"] and 5 in inspect.source_lines["jaxpr"]


def test_pass_dump_and_profile_work_in_the_sandbox(inspected: RunResult) -> None:
    inspect = inspected.inspect
    assert len([d for d in inspect.passes if d.text]) >= 3, inspect.passes_note
    assert inspect.profile is not None and inspect.profile.events
    assert inspect.timings is not None and inspect.timings.split_source == "jax.monitoring"
    assert not any("Could not" in w for w in inspect.warnings), inspect.warnings


def test_the_values_tree_survives_the_trip_through_the_supervisor(inspected: RunResult) -> None:
    tree = inspected.value_tree
    assert tree is not None and tree.kind == "dict"
    assert tree.children[0].summary.startswith("f32[5]")
    assert inspected.inspect.output_tree.summary.startswith("f32[5]")
