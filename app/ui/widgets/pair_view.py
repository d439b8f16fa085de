"""A NumPy-vs-JAX gotcha pair side by side: two editors, one click runs both, a verdict line."""

from __future__ import annotations

import streamlit as st

from app.snippets import Pair
from app.ui import icons, state
from app.ui.run import collect, submit
from app.ui.share import SharedState
from app.ui.verdict import verdict
from app.ui.widgets.editor import editor
from app.ui.widgets.results import show_result
from app.ui.widgets.sharing import share_button
from app.ui.widgets.snippet_area import build_request


@st.fragment
def pair_view(pair: Pair) -> None:
    st.subheader(pair.title, anchor=pair.id.split("/")[-1], divider="gray")
    st.markdown(f"**What differs:** {pair.difference}")
    run_col, share_col, _ = st.columns([1.3, 1, 5], vertical_alignment="center")
    run_both = run_col.button("Run both", key=f"run-both::{pair.id}", type="primary",
                              icon=icons.RUN, help="Runs the NumPy and the JAX side at once")
    sides = (("NumPy", pair.numpy), ("JAX", pair.jax))
    columns = st.columns(2, gap="medium")
    events = {}
    for column, (label, snippet) in zip(columns, sides, strict=True):
        with column:
            st.markdown(f"**{label}** — {snippet.title}")
            events[label] = editor(snippet.id, snippet.code)
            edited = events[label].code != snippet.code
            reset_col, badge_col = st.columns([1, 2], vertical_alignment="center")
            reset_col.button("Reset", key=f"reset::{snippet.id}", disabled=not edited,
                             on_click=state.reset, args=(snippet.id,))
            if edited:
                badge_col.badge("edited", icon=icons.EDITED, color="orange")
    share_button(share_col, SharedState(pair.jax.id, events["JAX"].code,
                                        {"codes": {pair.numpy.id: events["NumPy"].code}}), pair.id)
    chosen = dict(sides)
    to_run = [label for label, _ in sides if run_both or events[label].submitted]
    if to_run:
        requests = [build_request(chosen[label], events[label].code, inspect=False)
                    for label in to_run]
        submit(pair.id, requests, [(label, events[label].code) for label in to_run])
    done = collect(pair.id)
    if done:
        results, ran = done
        for (label, ran_code), result in zip(ran, results, strict=True):
            state.set_result(chosen[label].id, (result, ran_code))
    stored = {label: state.result(snippet.id) for label, snippet in sides}
    if stored["NumPy"] and stored["JAX"]:
        line = verdict(stored["NumPy"][0], stored["JAX"][0], pair.numpy, pair.jax)
        st.markdown(f"**Verdict:** {line}")
    for column, (label, _) in zip(st.columns(2, gap="medium"), sides, strict=True):
        with column:
            if stored[label]:
                result, ran_code = stored[label]
                show_result(result, ran_code)
