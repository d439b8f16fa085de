"""Playground page: layout lives in app.ui.playground."""

from app.ui.playground import render_playground

render_playground()
