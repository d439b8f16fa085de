"""Rooms page (create, join, dashboard, participant): layout lives in app.ui.pages.rooms."""

from app.ui.pages.rooms import render_rooms

render_rooms()
