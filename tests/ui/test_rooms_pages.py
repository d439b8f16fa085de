"""The Exercises and Rooms pages under AppTest, against the real runner and a real (temporary)
SQLite store: a check's verdict, creating a room, joining it, the dashboard, bad links."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app.rooms.catalogue import Item
from tests.ui.test_pages import open_page, texts


def test_exercise_check_says_which_case_failed_and_saves_progress() -> None:
    at = open_page("exercises.py", {"exercise": "sharp-bits/jit-nansum"})
    assert at.title[0].value == "Exercises"
    at.button(key="check::sharp-bits/jit-nansum").click().run()
    assert not at.exception
    shown = texts(at)
    assert "Not yet." in shown and "nansum under jax" in shown, shown[-2000:]
    assert at.query_params.get("p"), "the first Check starts a personal link"
    at.button(key="hint-btn::sharp-bits/jit-nansum").click().run()
    assert "Hint 1." in texts(at)


def _create_room(at: AppTest) -> tuple[str, str]:
    at.text_input[0].input("Onboarding <b>room</b>")
    at.multiselect[0].set_value([Item("exercise", "sharp-bits/jit-nansum")])
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.value for e in at.exception]
    links = [c.value for c in at.code]
    join = next(link for link in links if "join=" in link)
    facilitator = next(link for link in links if "key=" in link)
    return join.split("join=")[1], facilitator.split("key=")[1]


def test_a_room_is_created_joined_and_watched() -> None:
    at = open_page("rooms.py")
    code, key = _create_room(at)
    joiner = open_page("rooms.py", {"join": code})
    assert "Join: Onboarding \\<b\\>room\\</b\\>" in joiner.title[0].value
    joiner.text_input[0].input("[Ada](http://x)")
    joiner.button[0].click().run()
    assert joiner.query_params.get("p")
    dashboard = open_page("rooms.py", {"room": code, "key": key})
    assert not dashboard.exception
    grid = dashboard.dataframe[0].value
    assert list(grid["participant"]) == ["[Ada](http://x)"]  # a name is data, not markdown


def test_bad_links_get_a_clear_message() -> None:
    at = open_page("rooms.py", {"room": "abcdefgh", "key": "x" * 24})
    assert "does not open a room" in texts(at)
    at = open_page("rooms.py", {"p": "not a token"})
    assert "not valid" in texts(at)
