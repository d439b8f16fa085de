"""Guide section page: jax-vs-numpy."""

from app.ui.section_page import render_section

render_section("jax-vs-numpy")
