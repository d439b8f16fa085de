"""Guide section page: jit-compilation."""

from app.ui.pages.section import render_section

render_section("jit-compilation")
