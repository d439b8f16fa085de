"""The progress marks beside an exercise's name, on the Exercises page and in a room.

Not started carries no mark at all: a circle beside a radio button's own circle read as two
circles. The marks are text in a widget's label, so they change as the person checks; the
widgets that show them keep their choice apart from the label (state.pinned).
"""

from __future__ import annotations

from app.rooms.learners import Progress

MARKS = {"done": "✓", "attempted": "✗", "not started": ""}
LEGEND = "✓ passed · ✗ tried, not passed yet"


def marked(title: str, progress: Progress | None) -> str:
    mark = MARKS[progress.mark if progress else "not started"]
    return f"{mark} {title}" if mark else title
