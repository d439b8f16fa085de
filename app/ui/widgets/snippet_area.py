"""One snippet's area: editor, Run / Reset / Share, and its results. A fragment: running or editing
reruns this area only, not the page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.protocol import InspectRequest, RunRequest
from app.ui import icons, state
from app.ui.run import latest_result, submit
from app.ui.share import SharedState
from app.ui.widgets.editor import editor, redraw_if_changed, stored_mark
from app.ui.widgets.ir_view import IrContext
from app.ui.widgets.results import View, show_result
from app.ui.widgets.sharing import download_button, share_button
from app.ui.widgets.version_compare import compare_button, show_comparison

INSPECT_VIEWS = ["jaxpr", "stablehlo", "hlo", "cost", "memory", "shapes"]


def build_request(snippet: Any, code: str, inspect: bool) -> RunRequest:
    """The run for this snippet's code; with inspect, its entry function's views and timings."""
    request = RunRequest(code=code, x64=bool(getattr(snippet, "x64", False)))
    if inspect and snippet.entry:
        request.inspect = InspectRequest(
            function=snippet.entry,
            args=snippet.args or "()",
            views=list(INSPECT_VIEWS),  # type: ignore[arg-type]
            timings=True,
            numpy_function=getattr(snippet, "numpy_entry", None),
            profile=True,
        )
    return request


def call_text(function: str, args: str | None) -> str:
    """How the entry is called, e.g. loss(x) for args '(x,)'."""
    inner = (args or "()").strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1].rstrip().removesuffix(",")
    return f"{function}({inner})"


def controls(snippet: Any, code: str) -> tuple[bool, bool]:
    """Run / Reset / Share / Download / inspect row; returns (run clicked, inspect wanted)."""
    edited = code != snippet.code
    run_col, reset_col, share_col, download_col, compare_col, note_col = st.columns(
        [1, 1, 1, 1.5, 2, 2.5], vertical_alignment="center")
    clicked = run_col.button("Run", key=f"run::{snippet.id}", type="primary", icon=icons.RUN,
                             help="Ctrl+Enter (Cmd+Enter on a Mac) in the editor also runs")
    reset_col.button("Reset", key=f"reset::{snippet.id}", disabled=not edited,
                     on_click=state.reset, args=(snippet.id,), help="Back to the shipped code")
    inspect = False
    with note_col:
        if snippet.entry:
            inspect = state.widget(
                st.toggle,
                f"Inspect `{call_text(snippet.entry, snippet.args)}`: jaxpr, HLO, timings, cost",
                f"inspect::{snippet.id}", True,
            )
        if edited:
            st.badge("edited", icon=icons.EDITED, color="orange")
    share_button(share_col, SharedState(snippet.id, code, {"inspect": inspect}), snippet.id)
    download_button(download_col, code, snippet.id)
    compare_button(compare_col, snippet.id, build_request(snippet, code, inspect), code)
    return clicked, inspect


@st.fragment
def snippet_area(snippet: Any) -> None:
    drawn = stored_mark(snippet.id, state.code(snippet.id, snippet.code))
    event = editor(snippet.id, snippet.code, drawn)
    clicked, inspect = controls(snippet, event.code)
    if clicked or event.submitted:
        submit(snippet.id, [build_request(snippet, event.code, inspect)], event.code)
    show_latest(snippet.id, event.code, drawn)
    show_comparison(snippet.id)


def show_latest(area_id: str, code: str, drawn: Any) -> None:
    """The area's latest result (collected if its run just ended), with its failing line marked
    in the editor that holds `code` (drawn: the mark the editor was drawn with)."""
    stored = latest_result(area_id)
    redraw_if_changed(drawn, stored_mark(area_id, code))
    if stored:
        result, ran_code = stored
        show_result(result, ran_code, View(editor_id=area_id, key=area_id),
                    IrContext(scope=area_id))
