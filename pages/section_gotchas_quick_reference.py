"""Guide section page: gotchas-quick-reference."""

from app.ui.section_page import render_section

render_section("gotchas-quick-reference")
