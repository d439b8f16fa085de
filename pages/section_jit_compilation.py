"""Guide section page: jit-compilation."""

from app.ui.section_page import render_section

render_section("jit-compilation")
