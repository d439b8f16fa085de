"""Exercises page: layout lives in app.ui.pages.exercises."""

from app.ui.pages.exercises import render_exercises

render_exercises()
