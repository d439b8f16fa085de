"""Guide section page: common-patterns."""

from app.ui.section_page import render_section

render_section("common-patterns")
