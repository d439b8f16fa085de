"""Guide section page: debugging."""

from app.ui.pages.section import render_section

render_section("debugging")
