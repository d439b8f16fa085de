"""The snippet suite: every shipped snippet, and both sides of every pair, through the real
sandboxed runner; the outcome must be what its header says."""

from __future__ import annotations

import pytest

from app.snippet_check import judge, request_for
from app.snippets import load_library
from app.ui.widgets.errors import excerpt_html
from tests.snippets.helpers import highlighted_line

SNIPPETS = load_library().all_snippets()


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs_as_its_header_says(runner, snippet) -> None:
    result = runner.run(request_for(snippet, runner.settings.max_timeout_s))
    row = judge(snippet, result)
    assert row.ok, (
        f"{snippet.path.name}: expected {row.expected}, got {row.got} ({row.detail})\n"
        f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}"
    )
    if result.error is not None and result.error.line:
        # The error excerpt under the editor highlights exactly the error's line.
        number, text = highlighted_line(excerpt_html(snippet.code, result.error.line))
        assert (number, text) == (result.error.line,
                                  snippet.code.split("\n")[result.error.line - 1])
