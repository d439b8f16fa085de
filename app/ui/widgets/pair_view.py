"""A NumPy-vs-JAX gotcha pair side by side: two editors, one click runs both, a verdict line."""

from __future__ import annotations

import streamlit as st

from app.snippets import Pair
from app.ui import icons, state
from app.ui.plain import md_literal
from app.ui.run import collect, submit
from app.ui.share import SharedState
from app.ui.verdict import Verdict, verdict
from app.ui.widgets import sharing
from app.ui.widgets.editor import editor, redraw_if_changed, stored_mark
from app.ui.widgets.results import View, show_result
from app.ui.widgets.snippet_area import build_request
from app.ui.widgets.version_compare import compare_button, show_comparison

_TONES = {"success": st.success, "warning": st.warning, "info": st.info}


def pair_file(numpy_code: str, jax_code: str) -> str:
    """Both sides in one .py file, each as a cell (# %%), NumPy first."""
    return (f"# %% NumPy\n{numpy_code.rstrip()}\n\n\n# %% JAX\n{jax_code.rstrip()}\n")


def show_verdict(shown: Verdict) -> None:
    """A visible box (not small print); the sentence quotes run output, so it is escaped."""
    _TONES[shown.tone](f"**Verdict:** {md_literal(shown.text, 1_000)}")
    if shown.difference:
        st.code(shown.difference, language=None, wrap_lines=True)


@st.fragment
def pair_view(pair: Pair) -> None:
    anchor = pair.id.split("/")[-1]
    st.subheader(pair.title, anchor=anchor, divider="gray")
    sharing.mark_if_shared({pair.numpy.id, pair.jax.id}, anchor)
    st.markdown(f"**What differs:** {pair.difference}")
    run_col, share_col, download_col, compare_col, _ = st.columns(
        [1.3, 1, 1.5, 2, 1.5], vertical_alignment="center")
    run_both = run_col.button("Run both", key=f"run-both::{pair.id}", type="primary",
                              icon=icons.RUN, help="Runs the NumPy and the JAX side at once")
    sides = (("NumPy", pair.numpy), ("JAX", pair.jax))
    columns = st.columns(2, gap="medium")
    events, drawn = {}, {}
    for column, (label, snippet) in zip(columns, sides, strict=True):
        with column:
            st.markdown(f"**{label}** — {snippet.title}")
            drawn[label] = stored_mark(snippet.id, state.code(snippet.id, snippet.code))
            events[label] = editor(snippet.id, snippet.code, drawn[label])
            edited = events[label].code != snippet.code
            reset_col, badge_col = st.columns([1, 2], vertical_alignment="center")
            reset_col.button("Reset", key=f"reset::{snippet.id}", disabled=not edited,
                             on_click=state.reset, args=(snippet.id,))
            if edited:
                badge_col.badge("edited", icon=icons.EDITED, color="orange")
    sharing.share_button(share_col, SharedState(pair.jax.id, events["JAX"].code, {
        "codes": {pair.numpy.id: events["NumPy"].code}}), pair.id)
    sharing.download_button(download_col, pair_file(events["NumPy"].code, events["JAX"].code),
                            pair.id)
    # The JAX side on every JAX version (the NumPy side does not change with JAX).
    compare_button(compare_col, pair.jax.id,
                   build_request(pair.jax, events["JAX"].code, inspect=False), events["JAX"].code)
    chosen = dict(sides)
    to_run = [label for label, _ in sides if run_both or events[label].submitted]
    if to_run:
        requests = [build_request(chosen[label], events[label].code, inspect=False)
                    for label in to_run]
        submit(pair.id, requests, [(label, events[label].code) for label in to_run])
        for label in to_run:  # results are kept per side: a side that runs again shows none
            state.set_result(chosen[label].id, None)
    done = collect(pair.id)
    if done:
        results, ran = done
        for (label, ran_code), result in zip(ran, results, strict=True):
            state.set_result(chosen[label].id, (result, ran_code))
    for label, snippet in sides:
        redraw_if_changed(drawn[label], stored_mark(snippet.id, events[label].code))
    stored = {label: state.result(snippet.id) for label, snippet in sides}
    if stored["NumPy"] and stored["JAX"]:
        show_verdict(verdict(stored["NumPy"][0], stored["JAX"][0], pair.numpy, pair.jax,
                             stored["NumPy"][1], stored["JAX"][1]))
    for column, (label, snippet) in zip(st.columns(2, gap="medium"), sides, strict=True):
        with column:
            if stored[label]:
                result, ran_code = stored[label]
                show_result(result, ran_code, View(editor_id=snippet.id, key=snippet.id))
    show_comparison(pair.jax.id)
