"""Every python code block of the guide has a snippet: a block added without one fails here."""

from __future__ import annotations

import pytest

from app.snippet_check import GUIDE_PATH, guide_python_blocks, uncovered_blocks
from app.snippets import load_library


@pytest.fixture(scope="module")
def guide_blocks() -> list[str]:
    assert GUIDE_PATH.is_file(), f"the guide is expected at {GUIDE_PATH}"
    return guide_python_blocks(GUIDE_PATH.read_text(encoding="utf-8"))


def test_every_guide_block_is_covered(guide_blocks: list[str]) -> None:
    snippets = load_library().all_snippets()
    missing = uncovered_blocks(len(guide_blocks), snippets)
    assert not missing, "guide python blocks without a snippet: " + ", ".join(
        f"{n} ({guide_blocks[n - 1].strip().splitlines()[0]!r})" for n in missing
    )


def test_no_snippet_points_past_the_guide(guide_blocks: list[str]) -> None:
    past_the_end = [(s.id, b) for s in load_library().all_snippets() for b in s.guide_blocks
                    if b > len(guide_blocks)]
    assert past_the_end == []


def test_block_extraction_counts_only_python_fences() -> None:
    text = (
        "# Guide\n```python\nx = 1\n```\n\n```bash\npip install jax\n```\n"
        "text\n```python\ny = 2\nprint(y)\n```\n```\nplain\n```\n"
    )
    assert guide_python_blocks(text) == ["x = 1\n", "y = 2\nprint(y)\n"]


def test_a_new_block_without_a_snippet_is_reported(guide_blocks: list[str]) -> None:
    # The same check, on the guide with one more python block at the end.
    snippets = load_library().all_snippets()
    assert uncovered_blocks(len(guide_blocks) + 1, snippets) == [len(guide_blocks) + 1]


def test_blocks_with_code_match_their_snippets(guide_blocks: list[str]) -> None:
    """A snippet's code shares real lines with each block it claims (catches renumbering)."""
    for snippet in load_library().all_snippets():
        code_lines = {line.strip() for line in snippet.code.splitlines()}
        for n in snippet.guide_blocks:
            block_lines = {
                line.strip() for line in guide_blocks[n - 1].splitlines()
                if line.strip() and not line.strip().startswith(("#", "import", "from"))
            }
            shared = block_lines & code_lines
            assert shared, f"{snippet.id} claims guide block {n} but shares no line with it"
