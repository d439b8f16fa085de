"""Playground: any code, every control (x64, time limit, inspect with a transform stack)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from app.config import settings
from app.protocol import InspectRequest, RunRequest
from app.ui import icons, library, state
from app.ui.run import latest_result, submit
from app.ui.share import SharedState
from app.ui.widgets import sharing
from app.ui.widgets.chrome import page_header
from app.ui.widgets.editor import editor
from app.ui.widgets.ir_view import IrContext
from app.ui.widgets.pipeline_view import TOGGLE_HELP
from app.ui.widgets.results import show_result
from app.ui.widgets.transforms import expression, stack_picker

VIEWS = ["jaxpr", "stablehlo", "hlo", "cost", "memory", "shapes"]
_START_KEY = "playground::start"
INTRO = ("Write or paste any JAX code. The last line's value is shown; `print` and "
         "`jax.debug.print` output appear in order. Ctrl+Enter (Cmd+Enter) runs.")


def _starts() -> dict[str, Any]:
    options: dict[str, Any] = {library.BLANK.title: library.BLANK}
    for section in library.sections():
        for snippet in section.snippets:
            options[f"{section.title} › {snippet.title}"] = snippet
    return options


def _own_copy(snippet: Any) -> Any:
    """The Playground edits its own copy, apart from the same snippet on its section page."""
    area_id = snippet.id if snippet.id.startswith("playground/") else f"playground/{snippet.id}"
    return replace(snippet, id=area_id)


def render_playground() -> None:
    page_header("Playground", INTRO)
    starts = _starts()
    shared = sharing.incoming()
    if shared:
        label = next((k for k, s in starts.items() if _own_copy(s).id == shared.snippet_id), None)
        if label is None:
            st.warning("This share link's snippet is not in the library any more; "
                       "the page opened with its own code.", icon=icons.LINK)
        else:
            state.preset(_START_KEY, label)
            state.replace_code(shared.snippet_id, shared.code)
            st.info("Opened from a share link: the code below is the shared version.",
                    icon=icons.LINK)
    label = state.widget(st.selectbox, "Start from", _START_KEY, next(iter(starts)),
                         options=list(starts))
    if label not in starts:  # a snippet that left the library since
        state.preset(_START_KEY, next(iter(starts)))
        label = next(iter(starts))
    playground_body(_own_copy(starts[label]))


@st.fragment
def playground_body(snippet: Any) -> None:
    event = editor(snippet.id, snippet.code)
    limits = settings()
    with st.expander("Options", expanded=False):
        left, right = st.columns(2)
        x64 = state.widget(left.toggle, "64-bit (jax_enable_x64)", f"x64::{snippet.id}",
                           bool(snippet.x64))
        timeout = state.widget(right.slider, "Time limit (s)", f"timeout::{snippet.id}",
                               float(min(limits.timeout_s, limits.max_timeout_s)),
                               min_value=1.0, max_value=float(limits.max_timeout_s), step=1.0)
        inspect = state.widget(st.toggle, "Inspect a function: jaxpr, HLO, cost, timings",
                               f"inspect::{snippet.id}", bool(snippet.entry))
        fn_col, args_col = st.columns([1, 2])
        function = state.widget(fn_col.text_input, "Function", f"fn::{snippet.id}",
                                snippet.entry or "f", disabled=not inspect)
        args = state.widget(args_col.text_input, "Example arguments (a tuple)",
                            f"args::{snippet.id}", snippet.args or "()", disabled=not inspect)
        steps = stack_picker(f"stack::{snippet.id}", "Transforms (innermost first)", ["jit"])
        passes = state.widget(st.toggle, "XLA passes: the HLO after each pass (slower)",
                              f"passes::{snippet.id}", False, disabled=not inspect,
                              help=TOGGLE_HELP)
        if inspect and steps is not None:
            st.code(expression(function, steps), language="python")
    run_col, reset_col, share_col, note_col = st.columns([1, 1, 1, 5], vertical_alignment="center")
    clicked = run_col.button("Run", key=f"run::{snippet.id}", type="primary", icon=icons.RUN,
                             help="Ctrl+Enter (Cmd+Enter on a Mac) in the editor also runs")
    edited = event.code != snippet.code
    reset_col.button("Reset", key=f"reset::{snippet.id}", disabled=not edited,
                     on_click=state.reset, args=(snippet.id,))
    if edited:
        note_col.badge("edited", icon=icons.EDITED, color="orange")
    sharing.share_button(share_col, SharedState(snippet.id, event.code, {}), snippet.id)
    if clicked or event.submitted:
        request = RunRequest(code=event.code, timeout_s=timeout, x64=x64)
        if inspect and steps is not None:
            request.inspect = InspectRequest(function=function, args=args, transforms=steps,
                                             views=list(VIEWS),  # type: ignore[arg-type]
                                             timings=True, compare_unjitted=True,
                                             numpy_function=snippet.numpy_entry,
                                             passes=passes, profile=True)
        submit(snippet.id, [request], event.code)
    stored = latest_result(snippet.id)
    if stored:
        show_result(*stored, IrContext(scope=snippet.id))
