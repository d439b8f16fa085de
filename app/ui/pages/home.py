"""The landing page: a first snippet to run right here, what the result tabs mean, where to go
next. The sidebar lists every page; this page does not repeat it."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from app.ui import library
from app.ui.glossary import COST, HLO, JAXPR, TIMINGS
from app.ui.navigation import learn_pages, section_pages, system_page, tool_pages
from app.ui.widgets import sharing
from app.ui.widgets.chrome import page_header
from app.ui.widgets.snippet_area import snippet_area

INTRO = (
    "Learn and probe JAX by running it. Your code runs in a sandboxed process on this server; "
    "your edits stay with you while you move between pages."
)
FIRST = replace(
    library.BLANK,
    id="home/first-snippet",
    title="Your first snippet",
    code=(
        "import jax\nimport jax.numpy as jnp\n\n\ndef f(x):\n    return jnp.sum(x ** 2)\n\n\n"
        "x = jnp.arange(3.0)\nprint('f(x) =', f(x))\njax.grad(f)(x)  # the gradient of f: 2x\n"
    ),
    entry="f",
    args="(x,)",
)
TABS = (
    ("Output", "what your code printed, the value of its last line, or the error with your "
     "failing line marked."),
    ("jaxpr", JAXPR),
    ("HLO", HLO),
    ("Timings", TIMINGS),
    ("Cost", COST),
)
TOOL_NOTES = (
    "Any code, every option: 64-bit, time limit, transforms and views.",
    "Stack grad / jit / vmap / pmap around a function; compare two stacks side by side.",
    "Each NumPy habit next to its JAX counterpart; one click runs both.",
)
LEARN_NOTES = (
    "Two exercises per section, checked in the sandbox; progress marks.",
    "An onboarding room: one link for the room, a live dashboard for the facilitator.",
)


def render_home() -> None:
    page_header("JAX Playground", INTRO)
    error = library.load_error()
    if error:
        st.error(f"The snippet library did not load: {error}")
    shared = sharing.incoming()
    if shared:
        sharing.apply_code(shared, {FIRST.id})
    st.subheader("Run your first snippet", anchor="first-snippet")
    st.markdown("Press **Run** (or Ctrl+Enter in the editor). Then change `3.0` to `5.0`, or "
                "`x ** 2` to `jnp.sin(x)`, and run it again.")
    snippet_area(FIRST)
    st.subheader("What the tabs show")
    st.markdown("\n".join(f"- **{name}**: {meaning}" if name == "Output" else f"- {meaning}"
                          for name, meaning in TABS))
    st.subheader("Where next")
    pages = section_pages()
    columns = st.columns(4)
    if pages:
        with columns[0]:
            st.page_link(pages[0], label="Start the guide")
            st.caption(f"{pages[0].title}, then {len(pages) - 1} more sections of runnable "
                       "snippets, in the guide's order.")
    for column, page, note in zip(columns[1:], tool_pages(), TOOL_NOTES, strict=False):
        with column:
            st.page_link(page)
            st.caption(note)
    st.subheader("Learn together")
    for column, page, note in zip(st.columns(4), learn_pages(), LEARN_NOTES, strict=False):
        with column:
            st.page_link(page)
            st.caption(note)
    st.page_link(system_page(), label="System: what this server runs on and its limits")
