"""A value as a tree: containers open and close (HTML <details>), leaves say what they are
(shape, dtype, statistics, or a short repr). Every text is escaped: it came from the run."""

from __future__ import annotations

import html

import streamlit as st

from app.protocol import ValueNode

STYLESHEET = (
    ".pgv { font-size: 0.85rem; font-family: var(--st-code-font, monospace); "
    "border: 1px solid rgba(128,128,128,0.25); border-radius: 0.5rem; padding: 0.4rem 0.7rem; "
    "max-height: 30rem; overflow: auto; }\n"
    ".pgv details { margin-left: 1rem; }\n"
    ".pgv > details { margin-left: 0; }\n"
    ".pgv summary { cursor: pointer; }\n"
    ".pgv-leaf { display: block; margin-left: 1rem; white-space: pre; }\n"
    ".pgv-key { color: #2aa198; }\n"
    ".pgv-kind { color: #8a8f98; }\n"
)


def _key(node: ValueNode, parent_path: str) -> str:
    own = node.path[len(parent_path):] if node.path.startswith(parent_path) else node.path
    return own or "value"


def node_html(node: ValueNode, parent_path: str = "", depth: int = 0) -> str:
    key = f'<span class="pgv-key">{html.escape(_key(node, parent_path))}</span>'
    kind = f'<span class="pgv-kind">{html.escape(node.kind)}</span>'
    if not node.children and not node.more:
        return (f'<span class="pgv-leaf" data-path="{html.escape(node.path, quote=True)}">{key} '
                f"{kind} {html.escape(node.summary)}</span>")
    opened = " open" if depth < 2 else ""
    inner = "".join(node_html(child, node.path, depth + 1) for child in node.children)
    if node.more:
        inner += f'<span class="pgv-leaf pgv-kind">… {node.more} more not shown</span>'
    return (f"<details{opened}><summary>{key} {kind} {html.escape(node.summary)}</summary>"
            f"{inner}</details>")


def show_tree(node: ValueNode | None, label: str) -> None:
    """An expander with the tree; nothing for a lone scalar or string (the repr says it all)."""
    if node is None or (not node.children and node.kind != "array"):
        return
    with st.expander(label, expanded=bool(node.children)):
        st.html(f'<div class="pgv">{node_html(node)}</div>')
