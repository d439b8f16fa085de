"""Gotchas: the library's NumPy-vs-JAX pairs side by side, one guide section at a time."""

from __future__ import annotations

import streamlit as st

from app.snippets import Pair
from app.ui import library, state
from app.ui.widgets import sharing
from app.ui.widgets.chrome import page_header
from app.ui.widgets.pair_view import pair_view

_SECTION_KEY = "gotchas::section"
INTRO = (
    "Each gotcha is the same idea written twice: the NumPy way and the JAX way. "
    "**Run both** runs the two sides at once in separate sandboxes; the verdict line says how "
    "they behaved and whether that is what the guide says. Edit either side and run again."
)


def _by_section(pairs: tuple[Pair, ...]) -> dict[str, list[Pair]]:
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(pair.section, []).append(pair)
    return grouped


def render_gotchas() -> None:
    page_header("Gotchas: NumPy vs JAX", INTRO)
    pairs = library.pairs()
    if not pairs:
        st.error(library.load_error() or "The library has no NumPy-vs-JAX pairs yet.")
        return
    grouped = _by_section(pairs)
    shared = sharing.incoming()
    if shared:
        owner = next((p for p in pairs if shared.snippet_id in (p.numpy.id, p.jax.id)), None)
        if owner is not None:
            state.preset(_SECTION_KEY, owner.section)
        sharing.apply_code(shared, {side.id for p in pairs for side in (p.numpy, p.jax)})
    # One section at a time: every pair holds two editors, and forty of them load slowly.
    titles = list(grouped)
    chosen = state.widget(
        st.segmented_control, "Guide section", _SECTION_KEY, titles[0], options=titles,
        format_func=lambda title: f"{title} ({len(grouped[title])})",
    )
    for pair in grouped.get(chosen or titles[0], []):
        pair_view(pair)
