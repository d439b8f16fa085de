"""Guide section page: performance."""

from app.ui.pages.section import render_section

render_section("performance")
