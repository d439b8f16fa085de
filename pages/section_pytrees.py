"""Guide section page: pytrees."""

from app.ui.pages.section import render_section

render_section("pytrees")
