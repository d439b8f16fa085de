"""The Transform Lab fields of each snippet: its entry, called on its args, runs in the sandbox
alone and under each transform its header lists (vmap and pmap on a batch of two copies)."""

from __future__ import annotations

import pytest

from app.protocol import InspectRequest, RunRequest, TransformStep
from app.snippets import Snippet, load_library

BATCHING = ("vmap", "pmap")


def batch_of_two(args: str) -> str:
    """args with a new leading axis of size 2 on every leaf (names the snippet may not import)."""
    return (
        "__import__('jax').tree.map(lambda a: __import__('jax').numpy.stack("
        f"[__import__('jax').numpy.asarray(a)] * 2), {args})"
    )


def _cases() -> list[tuple[Snippet, str]]:
    cases = []
    for snippet in load_library().all_snippets():
        if snippet.entry and snippet.args:
            cases.append((snippet, "plain"))
            cases.extend((snippet, t) for t in snippet.transforms)
    return cases


CASES = _cases()


def test_snippets_with_an_entry_run_ok() -> None:
    """The Transform Lab runs the snippet first: one that raises never reaches its function."""
    raising = [
        s.id for s in load_library().all_snippets() if s.entry and s.expect.outcome != "ok"
    ]
    assert raising == []


@pytest.mark.parametrize(
    ("snippet", "transform"), CASES, ids=[f"{s.id}-{t}" for s, t in CASES]
)
def test_entry_runs_under_each_listed_transform(runner, snippet: Snippet, transform: str) -> None:
    assert snippet.entry is not None and snippet.args is not None
    steps = [] if transform == "plain" else [TransformStep(transform)]
    args = batch_of_two(snippet.args) if transform in BATCHING else snippet.args
    request = RunRequest(
        code=snippet.code,
        x64=snippet.x64,
        timeout_s=runner.settings.max_timeout_s,  # a busy shared host must not fail a slow compile
        inspect=InspectRequest(function=snippet.entry, args=args, transforms=steps),
    )
    result = runner.run(request)
    assert result.status == "ok", (result.status, result.message, result.error)
    assert result.inspect is not None
    assert result.inspect.error is None, result.inspect.error
    assert result.inspect.output_repr


NUMPY_TWINS = [s for s in load_library().all_snippets() if s.numpy_entry]


@pytest.mark.parametrize("snippet", NUMPY_TWINS, ids=[s.id for s in NUMPY_TWINS])
def test_numpy_entry_is_timed_beside_the_jax_one(runner, snippet: Snippet) -> None:
    request = RunRequest(
        code=snippet.code,
        timeout_s=runner.settings.max_timeout_s,
        inspect=InspectRequest(
            function=snippet.entry or "",
            args=snippet.args or "()",
            transforms=[TransformStep("jit")],
            timings=True,
            numpy_function=snippet.numpy_entry,
        ),
    )
    result = runner.run(request)
    assert result.status == "ok", (result.status, result.message, result.error)
    assert result.inspect is not None and result.inspect.error is None, result.inspect
    timings = result.inspect.timings
    assert timings is not None and timings.numpy is not None and timings.steady is not None
    assert timings.numpy.count > 0
