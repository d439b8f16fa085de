"""Guide section page: core-transformations."""

from app.ui.pages.section import render_section

render_section("core-transformations")
