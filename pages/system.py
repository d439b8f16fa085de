"""System page: versions, devices, sandbox layers, limits (app.ui.system_page)."""

from app.ui.system_page import render_system

render_system()
