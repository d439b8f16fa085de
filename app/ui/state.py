"""Per-session editor state: the code of each snippet, kept across page switches.

Streamlit forgets a widget's state when its page is not drawn, so the code lives in plain
st.session_state keys (never widget keys) indexed by snippet id. The editor component's key
carries a version number: Reset bumps it, which mounts a fresh editor showing the shipped code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

_CODE = "code::"
_VERSION = "editor-version::"
_RESULT = "result::"
_SEEN_EVENT = "editor-event::"
_PENDING = "pending::"


def code(snippet_id: str, shipped: str) -> str:
    """The code the person sees for this snippet: their edit, or the shipped code."""
    return st.session_state.get(_CODE + snippet_id, shipped)


def set_code(snippet_id: str, new_code: str) -> None:
    st.session_state[_CODE + snippet_id] = new_code


def reset(snippet_id: str) -> None:
    """Forget the edit, remount the editor with the shipped code, and clear the area's results
    (an error of the edited code must not stay on screen under the shipped code); a run of the
    edited code still in flight is stopped."""
    st.session_state.pop(_CODE + snippet_id, None)
    st.session_state[_VERSION + snippet_id] = editor_version(snippet_id) + 1
    st.session_state.pop(_RESULT + snippet_id, None)
    in_flight = st.session_state.pop(_PENDING + snippet_id, None)
    if callable(getattr(in_flight, "stop", None)):
        in_flight.stop()


def replace_code(snippet_id: str, new_code: str) -> None:
    """Put code into the editor from outside it (a share link): store it and remount."""
    set_code(snippet_id, new_code)
    st.session_state[_VERSION + snippet_id] = editor_version(snippet_id) + 1


def editor_version(snippet_id: str) -> int:
    return int(st.session_state.get(_VERSION + snippet_id, 0))


def is_new_editor_event(editor_key: str, event_id: str) -> bool:
    """The editor component repeats its last event on every rerun; act on each event once."""
    if not event_id or st.session_state.get(_SEEN_EVENT + editor_key) == event_id:
        return False
    st.session_state[_SEEN_EVENT + editor_key] = event_id
    return True


def result(area_id: str) -> Any:
    return st.session_state.get(_RESULT + area_id)


def set_result(area_id: str, value: Any) -> None:
    st.session_state[_RESULT + area_id] = value


def session_id() -> str:
    """An opaque id for per-session rate limits; never shown to anyone."""
    if "_playground_session_id" not in st.session_state:
        st.session_state["_playground_session_id"] = uuid.uuid4().hex
    return st.session_state["_playground_session_id"]


_KEEP = "keep::"


def remembered(widget_key: str, default: Any) -> None:
    """Give a widget its last value back after a page switch.

    Streamlit drops a widget's state when its page is not drawn; a plain copy under another key
    survives. Call before drawing the widget (with no value= of its own), then keep(widget_key).
    """
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(_KEEP + widget_key, default)


def keep(widget_key: str) -> None:
    """Copy the widget's current value aside (see remembered)."""
    if widget_key in st.session_state:
        st.session_state[_KEEP + widget_key] = st.session_state[widget_key]


def preset(widget_key: str, value: Any) -> None:
    """Set a widget's value before it is drawn (a share link), surviving page switches too."""
    st.session_state[widget_key] = value
    st.session_state[_KEEP + widget_key] = value


def widget(draw: Callable[..., Any], label: str, key: str, default: Any, **kwargs: Any) -> Any:
    """Draw a keyed widget whose value survives page switches; default applies the first time."""
    remembered(key, default)
    value = draw(label, key=key, **kwargs)
    keep(key)
    return value


def choice(label: str, key: str, options: list[str]) -> str:
    """A selectbox over options whose choice survives page switches; a remembered choice that
    is no longer among them (a snippet that left the library since) falls back to the first."""
    chosen = widget(st.selectbox, label, key, options[0], options=options)
    if chosen not in options:
        preset(key, options[0])
        chosen = options[0]
    return str(chosen)


def pending(area_id: str) -> Any:
    return st.session_state.get(_PENDING + area_id)


def set_pending(area_id: str, value: Any) -> None:
    if value is None:
        st.session_state.pop(_PENDING + area_id, None)
    else:
        st.session_state[_PENDING + area_id] = value


def pinned(draw: Callable[..., Any], label: str, key: str, options: Sequence[Any], chosen: Any,
           on_change: Callable[..., None], **kwargs: Any) -> Any:
    """A radio or selectbox whose option labels change while it is shown (progress marks).

    Streamlit keeps such a widget's value as its label: a label that changed loses the choice
    (no option selected, or the first). The caller keeps the choice itself (on_change copies
    st.session_state[key] there); it is handed back to the widget before every draw."""
    st.session_state[key] = chosen if chosen in options else options[0]
    return draw(label, options, key=key, on_change=on_change, **kwargs)
