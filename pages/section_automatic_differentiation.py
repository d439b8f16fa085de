"""Guide section page: automatic-differentiation."""

from app.ui.section_page import render_section

render_section("automatic-differentiation")
