"""Guide section page: jax-vs-numpy."""

from app.ui.pages.section import render_section

render_section("jax-vs-numpy")
