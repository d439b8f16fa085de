"""The code editor: streamlit-code-editor (Ace, served from its wheel, works offline).

Ctrl/Cmd+Enter sends a "submit" event (the component's built-in binding) which the snippet area
treats as Run. Live autocompletion is off: its popup swallows Enter. Changes are sent after a
short pause in typing and when the editor loses focus, so the Run button beside it, or a page
switch, sees the latest code.
"""

from __future__ import annotations

from dataclasses import dataclass

from code_editor import code_editor

from app.ui import state

_MIN_LINES, _MAX_LINES = 6, 28

_BUTTONS = [
    {
        "name": "Copy",
        "feather": "Copy",
        "hasText": True,
        "alwaysOn": True,
        "commands": ["copyAll"],
        "style": {"top": "0.44rem", "right": "0.4rem"},
    },
]

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


def editor(snippet_id: str, shipped: str) -> EditorEvent:
    """Draw the editor for snippet_id; its code survives page switches (see app.ui.state)."""
    current = state.code(snippet_id, shipped)
    key = f"editor::{snippet_id}::{state.editor_version(snippet_id)}"
    # Height from the shipped code only: a height that changes while typing makes Ace redraw
    # its first line out of place.
    lines = shipped.count("\n") + 2
    response = code_editor(
        current,
        lang="python",
        height=[min(max(lines, _MIN_LINES), _MAX_LINES), _MAX_LINES],
        key=key,
        response_mode=["debounce", "blur"],
        buttons=_BUTTONS,
        props=_ACE_PROPS,
        options=_ACE_OPTIONS,
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
