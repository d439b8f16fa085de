"""Landing page: app.ui.home_page."""

from app.ui.home_page import render_home

render_home()
