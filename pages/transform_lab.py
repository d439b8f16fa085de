"""Transform Lab page: layout lives in app.ui.pages.transform_lab."""

from app.ui.pages.transform_lab import render_transform_lab

render_transform_lab()
