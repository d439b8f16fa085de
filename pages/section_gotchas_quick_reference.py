"""Guide section page: gotchas-quick-reference."""

from app.ui.pages.section import render_section

render_section("gotchas-quick-reference")
