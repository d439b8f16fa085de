"""A guide section's page: each snippet with its explanation, editor and results, then the
section's NumPy-vs-JAX pairs."""

from __future__ import annotations

import streamlit as st

from app.ui import icons, library
from app.ui.widgets import sharing
from app.ui.widgets.chrome import page_header
from app.ui.widgets.pair_view import pair_view
from app.ui.widgets.snippet_area import snippet_area


def render_section(slug: str) -> None:
    section = library.section(slug)
    if section is None:
        page_header("Guide section")
        st.error(library.load_error() or f"There is no guide section {slug!r} in the library.")
        return
    page_header(section.title, section.intro or None)
    ids = {s.id for s in section.snippets}
    ids |= {side.id for p in section.pairs for side in (p.numpy, p.jax)}
    shared = sharing.incoming()
    if shared:
        sharing.apply_code(shared, ids)
    if not section.snippets and not section.pairs:
        st.info("This section has no runnable snippets yet.")
    for snippet in section.snippets:
        anchor = snippet.id.split("/")[-1]
        st.subheader(snippet.title, anchor=anchor, divider="gray")
        sharing.mark_if_shared({snippet.id}, anchor)
        if snippet.subsection:
            st.caption(f"Guide: {snippet.subsection}")
        st.markdown(snippet.explanation)
        if snippet.changes:
            st.info(f"**Changed from the guide:** {snippet.changes}", icon=icons.CHANGED)
        snippet_area(snippet)
    if section.pairs:
        st.header("NumPy vs JAX", divider="gray")
        for pair in section.pairs:
            pair_view(pair)
