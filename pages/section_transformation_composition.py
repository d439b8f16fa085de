"""Guide section page: transformation-composition."""

from app.ui.pages.section import render_section

render_section("transformation-composition")
