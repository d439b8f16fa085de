"""Playground page: layout lives in app.ui.pages.playground."""

from app.ui.pages.playground import render_playground

render_playground()
