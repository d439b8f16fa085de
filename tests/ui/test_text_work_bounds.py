"""Texts a run produced cost the app bounded work: the IR diff and the IR lexers on inputs built
to defeat them (a forged report), and the highlighting budget.

The reproducers are the inputs that took minutes before (difflib on 'x' lines against
alternating 'x', 'y' lines; the HLO string rule on '"' followed by escaped quotes). They assert
the work the algorithms report or are built to bound, never a wall-clock time; the timeout is
only there so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.token import Error, String

from app.lexers import MAX_TOKEN, HloLexer, JaxprLexer, StableHloLexer
from app.ui.widgets import diff_view
from app.ui.widgets.highlight import MAX_HIGHLIGHT_CHARS, to_html
from app.ui.widgets.ir_view import highlighted_lines

LEXERS = (JaxprLexer, StableHloLexer, HloLexer)


def _alternating(lines: int) -> tuple[str, str]:
    return "\n".join(["x"] * lines), "\n".join(["x", "y"] * (lines // 2))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("lines", [2000, diff_view.MAX_DIFF_LINES])
def test_diff_of_lines_built_against_difflib_is_exact_and_within_the_work_budget(
        lines: int) -> None:
    a, b = _alternating(lines)
    diff = diff_view.compute(a, b)
    assert not diff.too_large
    assert 0 < diff.work <= diff_view.MAX_DIFF_WORK
    # The minimal diff: half of the x lines stay, the other half become y lines.
    assert (diff.added, diff.removed) == (lines // 2, lines // 2)


def test_a_diff_past_the_budget_says_so_and_still_tells_identical_from_different() -> None:
    big = "\n".join(f"line {i}" for i in range(diff_view.MAX_DIFF_LINES + 1))
    diff = diff_view.compute(big, big + "\nmore")
    assert diff.too_large and diff.changed and diff.work == 0
    assert diff_view.summary(diff) == "too long to diff here: they differ"
    assert not diff_view.compute(big, big).changed


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, start=1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


_LINES = st.lists(st.sampled_from(["x", "y", "", " ", "}", "x y", "z"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_LINES, _LINES)
def test_diff_of_adversarial_line_lists_is_a_minimal_edit_script(a: list[str],
                                                                 b: list[str]) -> None:
    diff = diff_view.compute("\n".join(a), "\n".join(b))
    a, b = "\n".join(a).splitlines(), "\n".join(b).splitlines()
    assert [r.text for r in diff.rows if r.tag != "insert"] == a
    assert [r.text for r in diff.rows if r.tag != "delete"] == b
    assert diff.added + diff.removed == len(a) + len(b) - 2 * _lcs(a, b)
    assert diff.work <= diff_view.MAX_DIFF_WORK
    assert [p for p in diff.pairs if p[0] is not None] or not a  # every line has a side


def _max_width(pattern: str) -> int:
    return sre_parse.parse(pattern, re.MULTILINE).getwidth()[1]


@pytest.mark.parametrize("lexer", LEXERS, ids=lambda c: c.__name__)
def test_every_lexer_rule_matches_a_bounded_number_of_characters(lexer: type) -> None:
    """A failing match costs at most a scan of what the rule could match: bounded per position,
    so lexing is linear. An unbounded `*` here made '"' + '\\\\"' * k quadratic."""
    widths = {rule[0]: _max_width(rule[0]) for rule in _rules(lexer)}
    assert {p: w for p, w in widths.items() if w > MAX_TOKEN} == {}


def _rules(lexer: type) -> list[tuple[str, object]]:
    """(pattern, action) of every rule; pygments' words() gives its regex by get()."""
    return [(rule[0].get() if hasattr(rule[0], "get") else rule[0], rule[1])
            for state in lexer.tokens.values() for rule in state if isinstance(rule, tuple)]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("lexer", LEXERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("text", ['"' + '\\"' * 200_000, "f32[" * 100_000,
                                  "%" + "[" * 200_000, "1x" * 200_000],
                         ids=["escaped-quotes", "open-brackets", "percent", "dims"])
def test_lexers_on_the_forged_reproducers_take_few_long_tokens(lexer: type, text: str) -> None:
    tokens = list(lexer(stripnl=False, ensurenl=False).get_tokens(text))
    assert "".join(v for _, v in tokens) == text
    assert max(len(v) for _, v in tokens) <= MAX_TOKEN
    if text.startswith('"'):
        # Strings that run to the end of the line, 2,000 escapes each (the backslash between
        # two pieces lexes alone): not one failed scan per character.
        assert all(t in String or len(v) == 1 for t, v in tokens)
        assert len(tokens) <= 2 * (len(text) // 4000) + 3


_HOSTILE = st.text(alphabet=st.sampled_from(list('"\\[]{}()<>%@#^=:;., \nxf32i1ab0_-$\'')),
                   max_size=400)


@settings(max_examples=300, deadline=None)
@given(_HOSTILE)
def test_lexers_keep_every_character_of_hostile_text(text: str) -> None:
    for lexer in LEXERS:
        tokens = list(lexer(stripnl=False, ensurenl=False).get_tokens(text))
        assert "".join(v for _, v in tokens) == text
        assert all(len(v) <= MAX_TOKEN for _, v in tokens)
        # A double quote always opens a string: never an error token the next scan restarts at.
        assert not [v for t, v in tokens if t in Error and '"' in v]


def test_highlighting_past_the_budget_is_plain_escaped_text() -> None:
    text = "<b>" + "x" * MAX_HIGHLIGHT_CHARS
    body = to_html(text, "hlo")
    assert 'data-plain="budget"' in body and "&lt;b&gt;" in body and "<b>" not in body
    assert highlighted_lines(text + "\nsecond", "hlo") == ["&lt;b&gt;" + "x" * MAX_HIGHLIGHT_CHARS,
                                                          "second"]
    assert 'data-plain' not in to_html("f32[3]", "hlo")


def test_source_line_numbers_outside_the_code_cost_nothing() -> None:
    """A forged map of 200,000 distinct line numbers: no legend entry or hover rule each."""
    from app.protocol import InspectResult
    from app.ui.widgets.ir_view import IrContext, block_html

    text = "\n".join(f"%{i} = add" for i in range(200_000))
    forged = InspectResult(hlo=text, source_lines={"hlo": list(range(1, 200_001))})
    body = block_html(text, "hlo", forged, "y = 1\n", IrContext("area"))
    assert body.count('class="pgx-s1"') == 1 and "pgx-s2" not in body
    assert body.count(":hover") == 1
