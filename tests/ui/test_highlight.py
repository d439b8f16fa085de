"""Highlighting: the failing line is marked, numbers are the snippet's own, text is escaped."""

from __future__ import annotations

from app.ui.widgets.highlight import to_html


def test_highlighted_line_and_numbers() -> None:
    code = "a = 1\nb = 2\nc = a / 0\n"
    html = to_html(code, "python", highlight_lines=[3], line_numbers=True, first_line=10)
    assert html.count('class="hll"') == 1
    marked = html.split('class="hll"')[1]
    assert "12" in marked.split("</span>")[0] or "12" in marked[:200]


def test_unknown_view_is_plain_and_escaped() -> None:
    html = to_html("<script>alert(1)</script>", "no-such-view")
    assert "<script>" not in html and "&lt;script&gt;" in html
