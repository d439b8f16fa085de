"""The dashboard's grid as HTML and its status line: names as text, whole; the state of the
room said as it is now (open until, ended, closed), never a stale end time."""

from __future__ import annotations

from app.rooms.catalogue import Item
from app.rooms.dashboard import Cell, Dashboard, Row
from app.rooms.rooms import Room
from app.ui.widgets.dashboard_grid import FULL_TITLES_UP_TO, grid_html, room_status

T0 = 1_800_000_000.0


def room(**kw: object) -> Room:
    values: dict = {"id": 1, "code": "abcdefgh", "name": "R",
                    "items": (Item("exercise", "a"), Item("exercise", "b")),
                    "created_at": T0, "ends_at": None, "expires_at": None}
    values.update(kw)
    return Room(**values)


def test_the_status_says_ended_once_the_end_time_passed() -> None:
    ends = T0 + 3600
    assert room_status(room(ends_at=ends), T0, "UTC").startswith("Open · ends at ")
    assert "(in 30 min)" in room_status(room(ends_at=ends), ends - 1800, "UTC")
    after = room_status(room(ends_at=ends), ends + 1, "UTC")
    assert after.startswith("Ended at ") and "read-only" in after and "ends at" not in after
    closed = room_status(room(ends_at=ends, closed_at=T0 + 60), T0 + 61, "UTC")
    assert closed.startswith("Closed at ") and "read-only" in closed
    assert room_status(room(), T0, "Not/AZone") == "Open · no end time"


def test_the_grid_shows_names_whole_and_as_text() -> None:
    evil = '<img src=x onerror="alert(1)"> and a very long name that goes on and on'
    view = Dashboard(room(), ["a", "b"], [
        Row(1, evil, T0, {"a": Cell(2, True, T0, False, T0)}, T0, stuck=False, idle=True),
        Row(2, "Bob", T0, {"b": Cell(3, False, T0, True)}, T0, stuck=True)])
    html = grid_html(view, {"a": "Title A", "b": "Title B"}, "stuck", T0 + 10, "UTC")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "goes on and on</td>" in html  # never cut
    assert html.index(">Bob<") < html.index("&lt;img")  # stuck first
    assert "✓2" in html and "✗3 S" in html and "pg-stuck" in html and "pg-idle" in html
    assert ">Title A</th>" in html  # few exercises: full titles as headers


def test_many_exercises_get_numbered_headers_and_a_legend() -> None:
    ids = [f"e{n}" for n in range(FULL_TITLES_UP_TO + 1)]
    view = Dashboard(room(items=tuple(Item("exercise", e) for e in ids)), ids,
                     [Row(1, "Ada", T0, {}, T0)])
    html = grid_html(view, {e: f"Title {e}" for e in ids}, "name", T0, "UTC")
    assert '<th class="ex" title="Title e0">1</th>' in html
    assert "1 Title e0 · 2 Title e1" in html
