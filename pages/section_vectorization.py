"""Guide section page: vectorization."""

from app.ui.section_page import render_section

render_section("vectorization")
