"""Landing page: app.ui.pages.home."""

from app.ui.pages.home import render_home

render_home()
