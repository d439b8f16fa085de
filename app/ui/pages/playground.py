"""Playground: any code, every control (x64, time limit, inspect with a transform stack)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from app.busy import PASSES_TIMEOUT_S, at_least
from app.config import settings
from app.protocol import InspectRequest, RunRequest
from app.ui import icons, library, state
from app.ui.run import submit
from app.ui.share import SharedState
from app.ui.widgets import sharing
from app.ui.widgets.chrome import page_header
from app.ui.widgets.editor import editor, stored_mark
from app.ui.widgets.pipeline_view import TOGGLE_HELP
from app.ui.widgets.snippet_area import INSPECT_VIEWS, show_latest
from app.ui.widgets.target import target_picker
from app.ui.widgets.transforms import (
    expression,
    option_texts,
    preset_stack,
    stack_names,
    stack_picker,
)
from app.ui.widgets.version_compare import compare_button, show_comparison

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


def _options_shared(area: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The options a Playground link carries (app.ui.share validated their types and bounds)."""
    limits = settings()
    out: dict[str, Any] = {}
    if "x64" in extra:
        out[f"x64::{area}"] = extra["x64"]
    if "timeout" in extra:
        out[f"timeout::{area}"] = float(min(max(extra["timeout"], 1.0), limits.max_timeout_s))
    for field, key in (("inspect", "inspect"), ("function", "fn"), ("args", "args"),
                       ("passes", "passes")):
        if field in extra:
            out[f"{key}::{area}"] = extra[field]
    return out


def _restore(shared: SharedState, starts: dict[str, Any]) -> None:
    """Set the code and every option from a share link, before the widgets are drawn."""
    label = next((k for k, s in starts.items() if _own_copy(s).id == shared.snippet_id), None)
    if label is None:
        st.warning("This share link's snippet is not in the library any more; "
                   "the page opened with its own code.", icon=icons.LINK)
        return
    state.preset(_START_KEY, label)
    state.replace_code(shared.snippet_id, shared.code)
    for key, value in _options_shared(shared.snippet_id, shared.extra).items():
        state.preset(key, value)
    if "stack" in shared.extra:
        preset_stack(f"stack::{shared.snippet_id}", shared.extra["stack"],
                     shared.extra.get("stack_options", []))
    st.info("Opened from a share link: the code and options below are the shared ones.",
            icon=icons.LINK)


def render_playground() -> None:
    page_header("Playground", INTRO)
    starts = _starts()
    shared = sharing.incoming()
    if shared:
        _restore(shared, starts)
    label = state.choice("Start from", _START_KEY, list(starts))
    playground_body(_own_copy(starts[label]))


@st.fragment
def playground_body(snippet: Any) -> None:
    drawn = stored_mark(snippet.id, state.code(snippet.id, snippet.code))
    event = editor(snippet.id, snippet.code, drawn)
    limits = settings()
    with st.expander("Options", expanded=False):
        left, right = st.columns(2)
        x64 = state.widget(left.toggle, "64-bit (jax_enable_x64)", f"x64::{snippet.id}",
                           bool(snippet.x64))
        timeout = state.widget(right.slider, "Time limit (s)", f"timeout::{snippet.id}",
                               float(min(limits.timeout_s, limits.max_timeout_s)),
                               min_value=1.0, max_value=float(limits.max_timeout_s), step=1.0)
        target = target_picker(st, f"target::{snippet.id}")
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
        if passes and inspect:
            st.caption(f"With XLA passes a run may take up to "
                       f"{at_least(PASSES_TIMEOUT_S, timeout, limits):g} s.")
        if inspect and steps is not None:
            st.code(expression(function, steps), language="python")
    run_col, reset_col, share_col, download_col, compare_col, note_col = st.columns(
        [1, 1, 1, 1.5, 2, 2], vertical_alignment="center")
    # No tooltip: it covered the Options header above (the editor's bar says Ctrl+Enter runs).
    clicked = run_col.button("Run", key=f"run::{snippet.id}", type="primary", icon=icons.RUN)
    edited = event.code != snippet.code
    reset_col.button("Reset", key=f"reset::{snippet.id}", disabled=not edited,
                     on_click=state.reset, args=(snippet.id,))
    if edited:
        note_col.badge("edited", icon=icons.EDITED, color="orange")
    stack_key = f"stack::{snippet.id}"
    sharing.share_button(share_col, SharedState(snippet.id, event.code, {
        "x64": x64, "timeout": timeout, "inspect": inspect, "function": function, "args": args,
        "stack": stack_names(stack_key), "stack_options": option_texts(stack_key),
        "passes": passes,
    }), snippet.id)
    sharing.download_button(download_col, event.code, snippet.id)
    if inspect and passes:  # the pass dump's own need, whatever the slider says
        timeout = at_least(PASSES_TIMEOUT_S, timeout, limits)
    request = RunRequest(code=event.code, timeout_s=timeout, x64=x64,
                         target=target)  # type: ignore[arg-type]
    if inspect and steps is not None:
        request.inspect = InspectRequest(function=function, args=args, transforms=steps,
                                         views=list(INSPECT_VIEWS),  # type: ignore[arg-type]
                                         timings=True, compare_unjitted=True,
                                         numpy_function=snippet.numpy_entry,
                                         passes=passes, profile=True)
    compare_button(compare_col, snippet.id, request, event.code)
    if clicked or event.submitted:
        submit(snippet.id, [request], event.code)
    show_latest(snippet.id, event.code, drawn)
    show_comparison(snippet.id)
