"""The op table (app/data/op_docs.toml) explains every op the snippet library produces.

The test runs the library the way the app shows it: every snippet with an entry function is
inspected as its section page does (no transform) and as the Transform Lab's first stack does,
and every jaxpr primitive, StableHLO op and HLO op in those views must have an entry.
"""

from __future__ import annotations

import importlib

import pytest

from app import op_docs
from app.protocol import InspectRequest, RunRequest, TransformStep
from app.snippets import load_library
from app.worker.execute import _x64, execute
from app.worker.inspection import inspect_function

SNIPPETS = [s for s in load_library().all_snippets() if s.entry and s.args]


def _lab_stack(snippet) -> list[TransformStep]:
    """The Transform Lab's default stack A for this snippet (app.ui.pages.transform_lab)."""
    useful = [t for t in ("grad", "jit") if t in (snippet.transforms or ("grad", "jit"))]
    return [TransformStep(name) for name in (useful if len(useful) == 2 else useful or ["jit"])]


@pytest.fixture(scope="module")
def library_ops() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {view: set() for view in op_docs.VIEWS}
    inspected = 0
    for snippet in SNIPPETS:
        # The snippet runs once; its entry is inspected both ways in what it defined.
        report, namespace = execute(RunRequest(snippet.code, x64=snippet.x64))
        if report.error is not None:
            continue  # a snippet that shows an exception on purpose
        for stack in ([], _lab_stack(snippet)):
            with _x64(snippet.x64):
                result = inspect_function(InspectRequest(
                    snippet.entry, snippet.args, stack, views=["jaxpr", "stablehlo", "hlo"]),
                    namespace)
            if result.error is not None:
                continue  # e.g. grad of a snippet that shows a tracer error
            inspected += 1
            for view, ops in result.ops.items():
                found[view].update(ops)
    assert inspected >= len(SNIPPETS)
    return found


@pytest.mark.parametrize("view", op_docs.VIEWS)
def test_every_op_the_library_produces_has_an_entry(library_ops, view) -> None:
    assert library_ops[view], f"the library produced no {view} ops: the test is broken"
    assert op_docs.missing(view, sorted(library_ops[view])) == []


def test_every_jax_link_names_something_in_the_installed_jax() -> None:
    for view, entries in op_docs.table().items():
        for doc in entries.values():
            assert doc.meaning and len(doc.meaning) <= 140, (view, doc.op)
            assert doc.url.startswith("https://"), (view, doc.op)
            if doc.link.startswith("jax:"):
                module, _, name = doc.link[4:].rpartition(".")
                assert hasattr(importlib.import_module(module), name), doc.link


def test_links_expand() -> None:
    assert op_docs.expand_link("jax:jax.lax.sin") == (
        "https://docs.jax.dev/en/latest/_autosummary/jax.lax.sin.html")
    assert op_docs.expand_link("stablehlo:sine") == "https://openxla.org/stablehlo/spec#sine"
    with pytest.raises(ValueError):
        op_docs.expand_link("javascript:alert(1)")
