"""Guide section page: transformation-composition."""

from app.ui.section_page import render_section

render_section("transformation-composition")
