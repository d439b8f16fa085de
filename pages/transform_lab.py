"""Transform Lab page: layout lives in app.ui.transform_lab."""

from app.ui.transform_lab import render_transform_lab

render_transform_lab()
