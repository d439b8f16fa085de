"""Guide section page: core-transformations."""

from app.ui.section_page import render_section

render_section("core-transformations")
