"""Gotchas page: every NumPy-vs-JAX pair side by side (app.ui.gotchas_page)."""

from app.ui.gotchas_page import render_gotchas

render_gotchas()
