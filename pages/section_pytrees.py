"""Guide section page: pytrees."""

from app.ui.section_page import render_section

render_section("pytrees")
