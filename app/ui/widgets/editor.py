"""The code editor: streamlit-code-editor (Ace, served from its wheel, works offline).

Ctrl/Cmd+Enter sends a "submit" event (the component's built-in binding) which the snippet area
treats as Run. Live autocompletion is off: its popup swallows Enter. Changes are sent after a
short pause in typing and when the editor loses focus, so the Run button beside it, or a page
switch, sees the latest code.

The last run's failing line is marked in the editor itself (Ace's gutter annotation and a line
marker, both react-ace props the component passes through) while the editor still holds the code
that ran. Each editor sits in a keyed container, so the error excerpt's line numbers can find it
and move its cursor there (app.ui.widgets.errors).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import streamlit as st
from code_editor import code_editor
from streamlit.errors import StreamlitAPIException

from app.protocol import RunResult
from app.ui import state
from app.ui.plain import bounded

_MIN_LINES, _MAX_LINES = 6, 28
MARK_CLASS = "pg-error-line"

# The Copy button sits in a bar of its own above the code (the info bar), never over the code.
_BAR_HEIGHT = "1.9rem"
_BUTTONS = [
    {
        "name": "Copy",
        "feather": "Copy",
        "hasText": True,
        "alwaysOn": True,
        "commands": ["copyAll"],
        "style": {"top": "0", "right": "0.4rem", "height": _BAR_HEIGHT},
    },
]
_INFO_BAR = {
    "name": "pg-editor-bar",
    "style": {"height": _BAR_HEIGHT, "lineHeight": _BAR_HEIGHT, "padding": "0 0.7rem",
              "fontSize": "0.75rem", "opacity": "0.75", "fontFamily": "sans-serif",
              "background": "rgba(128, 128, 128, 0.10)", "color": "rgb(128, 128, 128)"},
    "info": [{"name": "Ctrl+Enter runs"}],
}
# Inside the component's iframe: the failing line's marker and gutter cell.
_COMPONENT_PROPS = {
    "globalCSS": (
        f".{MARK_CLASS} {{ position: absolute; background: rgba(255, 75, 75, 0.22); }}\n"
        ".ace_gutter-cell.ace_error { background-color: rgba(255, 75, 75, 0.35); }\n"
    ),
}

# Ace props: autocompletion and snippets off (the popup eats Enter), real line numbers.
_ACE_PROPS = {
    "enableLiveAutocompletion": False,
    "enableBasicAutocompletion": False,
    "enableSnippets": False,
    "highlightActiveLine": True,
    "tabSize": 4,
    # Ace's default top scroll margin lets the text layer scroll away from the line numbers
    # when the code gets shorter (seen after select-all + paste): no margin, no drift.
    "scrollMargin": [0, 0, 0, 0],
}
_ACE_OPTIONS = {"showLineNumbers": True, "wrap": False, "useSoftTabs": True}


@dataclass
class EditorEvent:
    code: str  # the code as it stands after this rerun
    submitted: bool  # Ctrl/Cmd+Enter or the editor's Run button


@dataclass(frozen=True)
class LineMark:
    """The failing line of the last run, as the editor marks it."""

    line: int  # 1-based
    text: str  # the error in one line, for the gutter's tooltip


def container_key(snippet_id: str) -> str:
    """The key of the container around snippet_id's editor (CSS class st-key-<key>)."""
    return "pg-editor-" + hashlib.sha1(snippet_id.encode()).hexdigest()[:12]


def mark_for(result: RunResult | None, ran_code: str | None, code: str) -> LineMark | None:
    """The line to mark: the run's error line, while the editor holds the code that ran."""
    if result is None or result.error is None or ran_code != code:
        return None
    line = result.error.line
    if not isinstance(line, int) or not 1 <= line <= code.count("\n") + 1:
        return None
    first = (result.error.message or "").strip().splitlines()[:1]
    return LineMark(line, bounded(f"{result.error.type}: {first[0] if first else ''}", 300))


def stored_mark(area_id: str, code: str) -> LineMark | None:
    """mark_for the (result, ran code) kept for area_id, if it holds one."""
    stored = state.result(area_id)
    if isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], RunResult):
        return mark_for(stored[0], stored[1], code)
    return None


def redraw_if_changed(drawn: LineMark | None, now: LineMark | None) -> None:
    """A run that just ended moved the mark: draw the area again so the editor shows it."""
    if drawn == now:
        return
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # the area was drawn as part of a whole-page run
        st.rerun()


def _marks(mark: LineMark | None) -> dict[str, Any]:
    if mark is None:
        return {"annotations": [], "markers": []}
    row = mark.line - 1
    return {
        "annotations": [{"row": row, "column": 0, "type": "error", "text": mark.text}],
        "markers": [{"startRow": row, "startCol": 0, "endRow": row, "endCol": 1,
                     "className": MARK_CLASS, "type": "fullLine"}],
    }


def editor(snippet_id: str, shipped: str, mark: LineMark | None = None) -> EditorEvent:
    """Draw the editor for snippet_id; its code survives page switches (see app.ui.state)."""
    current = state.code(snippet_id, shipped)
    key = f"editor::{snippet_id}::{state.editor_version(snippet_id)}"
    # Height from the shipped code only: a height that changes while typing makes Ace redraw
    # its first line out of place.
    lines = shipped.count("\n") + 2
    with st.container(key=container_key(snippet_id)):
        response = code_editor(
            current,
            lang="python",
            height=[min(max(lines, _MIN_LINES), _MAX_LINES), _MAX_LINES],
            key=key,
            response_mode=["debounce", "blur"],
            buttons=_BUTTONS,
            info=_INFO_BAR,
            props={**_ACE_PROPS, **_marks(mark)},
            options=_ACE_OPTIONS,
            component_props=_COMPONENT_PROPS,
            allow_reset=False,
        )
    submitted = False
    if isinstance(response, dict) and state.is_new_editor_event(key, str(response.get("id", ""))):
        text = response.get("text")
        if isinstance(text, str):
            state.set_code(snippet_id, text)
            current = text
        submitted = response.get("type") == "submit"
    return EditorEvent(code=current, submitted=submitted)
