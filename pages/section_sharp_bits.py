"""Guide section page: sharp-bits."""

from app.ui.pages.section import render_section

render_section("sharp-bits")
