"""Gotchas: every NumPy-vs-JAX pair of the library, side by side."""

from __future__ import annotations

import streamlit as st

from app.ui import library, sharing
from app.ui.chrome import page_header
from app.ui.pair_view import pair_view

INTRO = (
    "Each gotcha is the same idea written twice: the NumPy way and the JAX way. "
    "**Run both** runs the two sides at once in separate sandboxes; the verdict line says how "
    "they behaved and whether that is what the guide says. Edit either side and run again."
)


def render_gotchas() -> None:
    page_header("Gotchas: NumPy vs JAX", INTRO)
    pairs = library.pairs()
    if not pairs:
        st.error(library.load_error() or "The library has no NumPy-vs-JAX pairs yet.")
        return
    shared = sharing.incoming()
    if shared:
        sharing.apply_code(shared, {side.id for p in pairs for side in (p.numpy, p.jax)})
    by_section: dict[str, list] = {}
    for pair in pairs:
        by_section.setdefault(pair.section, []).append(pair)
    st.caption(" · ".join(f"{title}: {len(items)}" for title, items in by_section.items()))
    for title, items in by_section.items():
        st.header(title, divider="gray")
        for pair in items:
            pair_view(pair)
