"""Guide section page: vectorization."""

from app.ui.pages.section import render_section

render_section("vectorization")
