"""Diffs of IR text: stack A against stack B, a run against the previous one, a pass against the
one before it. Unified or side by side, changed lines marked (+ / - and colour), escaped text."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from typing import Literal

import streamlit as st

from app.ui.widgets.highlight import CSS_CLASS

MAX_DIFF_LINES = 6000  # per side; larger texts are compared only by their line counts

STYLESHEET = (
    ".pgd { font-size: 0.82rem; }\n"
    ".pgd-row { display: block; white-space: pre; padding-left: 0.3rem; }\n"
    ".pgd-no { display: inline-block; min-width: 2.6em; text-align: right; color: #8a8f98; "
    "padding-right: 0.6em; user-select: none; }\n"
    ".pgd-mark { display: inline-block; width: 1.2em; user-select: none; font-weight: 700; }\n"
    ".pgd-add { background: rgba(46,160,67,0.22); }\n"
    ".pgd-del { background: rgba(248,81,73,0.22); }\n"
    ".pgd-gap { color: #8a8f98; font-style: italic; }\n"
    ".pgd-sbs { display: grid; grid-template-columns: minmax(0,1fr) minmax(0,1fr); "
    "gap: 0.4rem; }\n"
)

Tag = Literal["equal", "delete", "insert"]


@dataclass
class Row:
    tag: Tag
    a_no: int | None
    b_no: int | None
    text: str


@dataclass
class Diff:
    rows: list[Row]
    added: int
    removed: int
    too_large: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def compute(a: str, b: str) -> Diff:
    a_lines, b_lines = a.splitlines(), b.splitlines()
    if max(len(a_lines), len(b_lines)) > MAX_DIFF_LINES:
        changed = a != b
        return Diff([], int(changed), int(changed), too_large=True)
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [Row("equal", i1 + k + 1, j1 + k + 1, a_lines[i1 + k]) for k in range(i2 - i1)]
            continue
        rows += [Row("delete", i + 1, None, a_lines[i]) for i in range(i1, i2)]
        rows += [Row("insert", None, j + 1, b_lines[j]) for j in range(j1, j2)]
    added = sum(1 for r in rows if r.tag == "insert")
    removed = sum(1 for r in rows if r.tag == "delete")
    return Diff(rows, added, removed)


def _folded(rows: list[Row], context: int) -> list[Row | None]:
    """Rows with long unchanged runs folded to `context` lines around changes (None: a gap)."""
    keep = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.tag != "equal":
            for k in range(max(0, index - context), min(len(rows), index + context + 1)):
                keep[k] = True
    out: list[Row | None] = []
    for index, row in enumerate(rows):
        if keep[index]:
            out.append(row)
        elif not out or out[-1] is not None:
            out.append(None)
    return out


def _no(number: int | None) -> str:
    return f'<span class="pgd-no">{"" if number is None else number}</span>'


_MARKS = {"equal": ("", " "), "delete": ("pgd-del", "-"), "insert": ("pgd-add", "+")}


def unified_html(diff: Diff, context: int = 3) -> str:
    out = []
    for row in _folded(diff.rows, context):
        if row is None:
            out.append('<span class="pgd-row pgd-gap">  … unchanged lines …</span>')
            continue
        css, mark = _MARKS[row.tag]
        out.append(f'<span class="pgd-row {css}" data-tag="{row.tag}">{_no(row.a_no)}'
                   f'{_no(row.b_no)}<span class="pgd-mark">{mark}</span>'
                   f"{html.escape(row.text) or ' '}</span>")
    return f'<div class="{CSS_CLASS} pgd"><pre><code>{"".join(out)}</code></pre></div>'


def side_by_side_html(diff: Diff, context: int = 3) -> str:
    left, right = [], []
    for row in _folded(diff.rows, context):
        if row is None:
            gap = '<span class="pgd-row pgd-gap"> … </span>'
            left.append(gap)
            right.append(gap)
            continue
        css, mark = _MARKS[row.tag]
        line = (f'<span class="pgd-row {css}" data-tag="{row.tag}">{{no}}'
                f'<span class="pgd-mark">{mark}</span>{html.escape(row.text) or " "}</span>')
        blank = '<span class="pgd-row"> </span>'
        if row.tag in ("equal", "delete"):
            left.append(line.format(no=_no(row.a_no)))
        if row.tag in ("equal", "insert"):
            right.append(line.format(no=_no(row.b_no)))
        if row.tag == "delete":
            right.append(blank)
        elif row.tag == "insert":
            left.append(blank)
    pane = '<div class="{c}"><pre><code>{body}</code></pre></div>'
    return ('<div class="pgd pgd-sbs">' + pane.format(c=CSS_CLASS, body="".join(left))
            + pane.format(c=CSS_CLASS, body="".join(right)) + "</div>")


def summary(diff: Diff) -> str:
    if diff.too_large:
        return "too long to diff here: " + ("they differ" if diff.changed else "identical")
    if not diff.changed:
        return "identical"
    return f"+{diff.added} / −{diff.removed} lines"


def show_diff(a: str, b: str, label_a: str, label_b: str, key: str,
              side_by_side_default: bool = False) -> Diff:
    """A diff with a unified / side-by-side switch; returns it (tests read the counts)."""
    diff = compute(a, b)
    st.caption(f"`{label_a}` → `{label_b}`: {summary(diff)}")
    if not diff.changed or diff.too_large:
        return diff
    mode = st.segmented_control("Diff layout", ["unified", "side by side"],
                                default="side by side" if side_by_side_default else "unified",
                                key=f"{key}::mode", label_visibility="collapsed")
    body = side_by_side_html(diff) if mode == "side by side" else unified_html(diff)
    st.html(body)
    return diff
