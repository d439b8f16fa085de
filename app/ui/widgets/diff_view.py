"""Diffs of IR text: stack A against stack B, a run against the previous one, a pass against the
one before it. Unified or side by side, changed lines marked (+ / - and colour), escaped text.

The texts come from runs, so the work is bounded, not only the size: lines are compared by a
bit-parallel longest-common-subsequence diff (RapidFuzz's Indel opcodes, C++), whose work is
about len(a) * len(b) / 64 machine words whatever the lines hold. difflib's SequenceMatcher took
minutes on 2,000 lines built to defeat it. Past the work budget the texts are compared only as
"identical or not", and the page says so.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import streamlit as st
from rapidfuzz.distance import Indel

from app.ui.widgets.highlight import CSS_CLASS

MAX_DIFF_LINES = 6000  # per side; larger texts are compared only as identical or not
WORD_BITS = 64
# Machine words of the comparison (lines left after the common head and tail, one side times the
# other in 64-line words): 6,000 x 6,000 lines is 0.56 M, a few milliseconds.
MAX_DIFF_WORK = MAX_DIFF_LINES * (MAX_DIFF_LINES // WORD_BITS + 1)

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
T = TypeVar("T")


@dataclass
class Row:
    tag: Tag
    a_no: int | None
    b_no: int | None
    text: str


@dataclass
class Diff:
    rows: list[Row]  # unified order: each change's removed lines, then its added lines
    added: int
    removed: int
    too_large: bool = False
    # side by side: (left, right) per row; a replaced block pairs its lines up
    pairs: list[tuple[Row | None, Row | None]] = field(default_factory=list)
    work: int = 0  # machine words the comparison took (at most MAX_DIFF_WORK)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _work(a_lines: int, b_lines: int) -> int:
    shorter, longer = sorted((a_lines, b_lines))
    return longer * -(-shorter // WORD_BITS) if shorter else 0


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many lines the two lists share at the head, then at the tail (not overlapping)."""
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def _blocks(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """(tag, i1, i2, j1, j2) blocks, tag 'equal' or 'change' (lines removed and/or added)."""
    head, tail = _common_ends(a, b)
    ids: dict[str, int] = {}  # exact line identity: no hash of a line can collide with another
    a_mid = [ids.setdefault(line, len(ids)) for line in a[head:len(a) - tail]]
    b_mid = [ids.setdefault(line, len(ids)) for line in b[head:len(b) - tail]]
    blocks: list[tuple[str, int, int, int, int]] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if blocks and blocks[-1][0] == tag == "change":  # a delete then an insert: one change
            blocks[-1] = (tag, blocks[-1][1], i2, blocks[-1][3], j2)
        else:
            blocks.append((tag, i1, i2, j1, j2))

    add("equal", 0, head, 0, head)
    for op in Indel.opcodes(a_mid, b_mid):
        tag = "equal" if op.tag == "equal" else "change"
        add(tag, head + op.src_start, head + op.src_end, head + op.dest_start, head + op.dest_end)
    add("equal", len(a) - tail, len(a), len(b) - tail, len(b))
    return blocks


@functools.lru_cache(maxsize=8)  # a page draws the same diff more than once per redraw
def compute(a: str, b: str) -> Diff:
    a_lines, b_lines = a.splitlines(), b.splitlines()
    head, tail = _common_ends(a_lines, b_lines)
    work = _work(len(a_lines) - head - tail, len(b_lines) - head - tail)
    if max(len(a_lines), len(b_lines)) > MAX_DIFF_LINES or work > MAX_DIFF_WORK:
        changed = a != b
        return Diff([], int(changed), int(changed), too_large=True)
    rows: list[Row] = []
    pairs: list[tuple[Row | None, Row | None]] = []
    for op, i1, i2, j1, j2 in _blocks(a_lines, b_lines):
        if op == "equal":
            same = [Row("equal", i1 + k + 1, j1 + k + 1, a_lines[i1 + k]) for k in range(i2 - i1)]
            rows += same
            pairs += [(row, row) for row in same]
            continue
        removed = [Row("delete", i + 1, None, a_lines[i]) for i in range(i1, i2)]
        added = [Row("insert", None, j + 1, b_lines[j]) for j in range(j1, j2)]
        rows += removed + added
        for k in range(max(len(removed), len(added))):
            pairs.append((removed[k] if k < len(removed) else None,
                          added[k] if k < len(added) else None))
    return Diff(rows, sum(1 for r in rows if r.tag == "insert"),
                sum(1 for r in rows if r.tag == "delete"), pairs=pairs, work=work)


def _folded(items: list[T], changed: list[bool], context: int) -> list[T | None]:
    """Items with long unchanged runs folded to `context` items around changes (None: a gap)."""
    keep = [False] * len(items)
    for index, is_changed in enumerate(changed):
        if is_changed:
            for k in range(max(0, index - context), min(len(items), index + context + 1)):
                keep[k] = True
    out: list[T | None] = []
    for index, item in enumerate(items):
        if keep[index]:
            out.append(item)
        elif not out or out[-1] is not None:
            out.append(None)
    return out


def _no(number: int | None) -> str:
    return f'<span class="pgd-no">{"" if number is None else number}</span>'


_MARKS = {"equal": ("", " "), "delete": ("pgd-del", "-"), "insert": ("pgd-add", "+")}


def unified_html(diff: Diff, context: int = 3) -> str:
    out = []
    for row in _folded(diff.rows, [r.tag != "equal" for r in diff.rows], context):
        if row is None:
            out.append('<span class="pgd-row pgd-gap">  … unchanged lines …</span>')
            continue
        css, mark = _MARKS[row.tag]
        out.append(f'<span class="pgd-row {css}" data-tag="{row.tag}">{_no(row.a_no)}'
                   f'{_no(row.b_no)}<span class="pgd-mark">{mark}</span>'
                   f"{html.escape(row.text) or ' '}</span>")
    return f'<div class="{CSS_CLASS} pgd"><pre><code>{"".join(out)}</code></pre></div>'


def _side_row(row: Row, number: int | None) -> str:
    css, mark = _MARKS[row.tag]
    return (f'<span class="pgd-row {css}" data-tag="{row.tag}">{_no(number)}'
            f'<span class="pgd-mark">{mark}</span>{html.escape(row.text) or " "}</span>')


def side_by_side_html(diff: Diff, context: int = 3) -> str:
    left, right = [], []
    blank = '<span class="pgd-row"> </span>'
    changed = [a is None or b is None or a.tag != "equal" for a, b in diff.pairs]
    for pair in _folded(diff.pairs, changed, context):
        if pair is None:
            gap = '<span class="pgd-row pgd-gap"> … </span>'
            left.append(gap)
            right.append(gap)
            continue
        a, b = pair
        left.append(_side_row(a, a.a_no) if a else blank)
        right.append(_side_row(b, b.b_no) if b else blank)
    panes = "".join(f'<div class="{CSS_CLASS}"><pre><code>{"".join(side)}</code></pre></div>'
                    for side in (left, right))
    return f'<div class="pgd pgd-sbs">{panes}</div>'


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
