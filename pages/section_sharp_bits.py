"""Guide section page: sharp-bits."""

from app.ui.section_page import render_section

render_section("sharp-bits")
