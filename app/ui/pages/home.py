"""The landing page: what the playground is, and a link to every guide section and tool."""

from __future__ import annotations

import streamlit as st

from app.ui import library
from app.ui.navigation import learn_pages, section_pages, system_page, tool_pages
from app.ui.widgets.chrome import page_header

INTRO = (
    "Learn and probe JAX by running it. Every section of the JAX guide is a page of runnable "
    "snippets: edit the code, press **Run** (or Ctrl+Enter), and see the output, the jaxpr, the "
    "HLO that XLA compiled, honest timings and the cost. Your code runs in a sandboxed process on "
    "this server; your edits stay with you while you move between pages."
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
    guide, tools = st.columns([3, 2], gap="large")
    with guide:
        st.subheader("The guide, section by section")
        for page, section in zip(section_pages(), library.sections(), strict=True):
            count = len(section.snippets) + len(section.pairs)
            st.page_link(page, help=f"{count} snippets and pairs")
    with tools:
        st.subheader("Try it")
        for page, note in zip(tool_pages(), TOOL_NOTES, strict=True):
            st.page_link(page)
            st.caption(note)
        st.subheader("Learn together")
        for page, note in zip(learn_pages(), LEARN_NOTES, strict=True):
            st.page_link(page)
            st.caption(note)
        st.page_link(system_page())
        st.caption("JAX version, devices, sandbox layers and limits of this server.")
