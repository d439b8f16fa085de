"""System page: versions, devices, sandbox layers, limits (app.ui.pages.system)."""

from app.ui.pages.system import render_system

render_system()
