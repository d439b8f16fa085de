"""The snippet suite: every shipped snippet, and both sides of every pair, through the real
sandboxed runner; the outcome must be what its header says."""

from __future__ import annotations

import pytest

from app.snippet_check import judge, request_for
from app.snippets import load_library

SNIPPETS = load_library().all_snippets()


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs_as_its_header_says(runner, snippet) -> None:
    result = runner.run(request_for(snippet, runner.settings.max_timeout_s))
    row = judge(snippet, result)
    assert row.ok, (
        f"{snippet.path.name}: expected {row.expected}, got {row.got} ({row.detail})\n"
        f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}"
    )
