"""A value a run printed (its repr), shown whole when it is small and summarised when it is large:
shapes and dtypes of its leaves, its first lines, and the whole text one click away."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.ui.plain import md_literal

MAX_LINES = 20
MAX_CHARS = 2_000
HEAD_LINES = 8
MAX_LEAVES = 12


@dataclass(frozen=True)
class Summary:
    lines: int
    chars: int
    head: str  # the first lines
    leaves: list[str]  # 'out['w']: f32[784,512]', at most MAX_LEAVES
    more_leaves: int  # leaves not listed


def is_large(text: str) -> bool:
    return len(text) > MAX_CHARS or text.count("\n") >= MAX_LINES


def summarise(text: str, leaves: list[str] | None = None) -> Summary:
    lines = text.split("\n")
    head = "\n".join(lines[:HEAD_LINES])
    if len(head) > MAX_CHARS:
        head = head[:MAX_CHARS] + "…"
    shown = [str(leaf) for leaf in (leaves or [])[:MAX_LEAVES]]
    return Summary(len(lines), len(text), head, shown, max(0, len(leaves or []) - MAX_LEAVES))


def show_value(label: str, text: str, leaves: list[str] | None = None) -> None:
    """label is our own caption; text (a repr) and leaves come from the run: shown as text."""
    if not is_large(text):
        st.caption(label)
        st.code(text, language=None, wrap_lines=True)
        return
    summary = summarise(text, leaves)
    st.caption(f"{label}: a large value, {summary.lines:,} lines ({summary.chars:,} characters)")
    if summary.leaves:
        more = f"\n… and {summary.more_leaves:,} more" if summary.more_leaves else ""
        st.code("\n".join(summary.leaves) + more, language=None, wrap_lines=True)
        st.caption("Its first lines")
    st.code(summary.head + "\n…", language=None, wrap_lines=True)
    with st.expander(f"The whole value ({summary.lines:,} lines)"):
        st.code(text, language=None, wrap_lines=True)


def shapes_caption(in_shapes: list[str], out_shapes: list[str]) -> str:
    """'in: x: f32[3] → out: f32[]', bounded (a pytree may have thousands of leaves)."""
    def some(items: list[str]) -> str:
        listed = ", ".join(str(i) for i in items[:MAX_LEAVES]) or "–"
        return listed + (f", … {len(items) - MAX_LEAVES:,} more" if len(items) > MAX_LEAVES
                         else "")
    return md_literal(f"in: {some(in_shapes)} → out: {some(out_shapes)}", 1_000)
