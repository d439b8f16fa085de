"""Gotchas page: every NumPy-vs-JAX pair side by side (app.ui.pages.gotchas)."""

from app.ui.pages.gotchas import render_gotchas

render_gotchas()
