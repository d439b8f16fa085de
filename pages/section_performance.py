"""Guide section page: performance."""

from app.ui.section_page import render_section

render_section("performance")
