"""Guide section page: debugging."""

from app.ui.section_page import render_section

render_section("debugging")
