"""Guide section page: automatic-differentiation."""

from app.ui.pages.section import render_section

render_section("automatic-differentiation")
