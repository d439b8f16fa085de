"""Guide section page: common-patterns."""

from app.ui.pages.section import render_section

render_section("common-patterns")
