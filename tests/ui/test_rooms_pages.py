"""The Exercises and Rooms pages under AppTest, against the real runner and a real (temporary)
SQLite store: a check's verdict, creating a room, joining it, the dashboard, bad links."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

from streamlit.testing.v1 import AppTest

from app.config import settings
from app.protocol import CheckResult, RunResult
from app.rooms import learners
from app.rooms.catalogue import Item
from app.rooms.store import StoreBusy, get_store
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


NANSUM = "sharp-bits/jit-nansum"


def _create_room(at: AppTest) -> tuple[str, str]:
    at.text_input[0].input("Onboarding <b>room</b>")
    at.multiselect[0].set_value([Item("exercise", NANSUM)])
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.value for e in at.exception]
    links = [c.value for c in at.code]
    join = next(link for link in links if "join=" in link)
    facilitator = next(link for link in links if "key=" in link)
    return join.split("join=")[1], facilitator.split("key=")[1]


def _grid(at: AppTest) -> str:
    return "\n".join(str(h.proto.body) for h in at.get("html"))


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
    # A name is data: neither markdown nor HTML.
    assert '<td class="name">[Ada](http://x)</td>' in _grid(dashboard)
    evil = open_page("rooms.py", {"join": code})
    evil.text_input[0].input("<img src=x onerror=alert(1)>")
    evil.button[0].click().run()
    dashboard.run()
    assert "&lt;img src=x onerror=alert(1)&gt;" in _grid(dashboard)
    assert "<img" not in _grid(dashboard)


def test_bad_links_get_a_clear_message() -> None:
    at = open_page("rooms.py", {"room": "abcdefgh", "key": "x" * 24})
    assert "does not open a room here" in texts(at)
    at = open_page("rooms.py", {"p": "not a token"})
    assert "not valid" in texts(at)


def test_creating_a_room_lands_on_its_dashboard_and_a_reload_keeps_both_links() -> None:
    at = open_page("rooms.py")
    code, key = _create_room(at)
    # The page's own address is now the facilitator link: no filled form under the links.
    assert at.query_params["room"] == code and at.query_params["key"] == key
    assert not at.get("form") and "Create a room" not in texts(at)
    recovery = next(c.value for c in at.code if "join=" not in c.value and "key=" not in c.value)
    reloaded = open_page("rooms.py", {"room": code, "key": key})  # a reload: a new session
    links = [c.value for c in reloaded.code]
    assert any(f"join={code}" in link for link in links)
    assert any(f"key={key}" in link for link in links)
    assert recovery not in links  # the recovery code is shown once only


def test_a_lost_or_wrong_facilitator_link_has_a_way_back() -> None:
    at = open_page("rooms.py")
    code, key = _create_room(at)
    recovery = next(c.value for c in at.code if "join=" not in c.value and "key=" not in c.value)
    for query in ({"room": code}, {"room": code, "key": "y" * 24}):
        lost = open_page("rooms.py", query)
        assert "recovery code" in texts(lost), query
        assert lost.text_input[0].value == code
    lost.text_input[1].input(recovery)
    lost.button[0].click().run()
    assert not lost.exception
    new_key = lost.query_params["key"]
    assert new_key != key and "Room: Onboarding" in lost.title[0].value
    assert "does not open" in texts(open_page("rooms.py", {"room": code, "key": key}))


def _passed(ok: bool) -> RunResult:
    check = CheckResult(True, passed_cases=["c"]) if ok else CheckResult(
        False, case="nansum of [0.5, nan]", message="wrong")
    return RunResult(status="ok", check=check)


def test_a_closed_room_stays_readable_for_everyone_with_its_export() -> None:
    at = open_page("rooms.py")
    code, key = _create_room(at)
    db = get_store()
    token = learners.join_room(db, settings(), code, "Ada")
    ada = learners.learner(db, token)
    learners.record_attempt(db, settings(), ada, NANSUM, "page-close-1", "ADA'S WORK",
                            _passed(False))
    dashboard = open_page("rooms.py", {"room": code, "key": key})
    dashboard.checkbox(key="close-confirm").check().run()
    dashboard.button[-1].click().run()
    assert not dashboard.exception
    shown = texts(dashboard)
    assert "Closed at" in shown and "read-only" in shown, shown
    assert "closed by its facilitator" not in shown
    assert "Ada" in _grid(dashboard) and "✗1" in _grid(dashboard)  # the final grid
    labels = [b.proto.label for b in dashboard.get("download_button")]
    assert labels == ["Export CSV", "Export JSON"]
    participant = open_page("rooms.py", {"p": token})
    shown = texts(participant)
    assert "closed by its facilitator: you can still read your work" in shown, shown
    assert participant.title[0].value == "Room: Onboarding \\<b\\>room\\</b\\>"


@contextlib.contextmanager
def sqlite_locked() -> Iterator[None]:
    """Another process holds the app database's write lock for the duration."""
    db = get_store()
    assert db.path is not None
    release, locked = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(db.path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait()
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        yield
    finally:
        release.set()
        holder.join()


def test_a_locked_database_gives_a_clear_message_on_the_page() -> None:
    at = open_page("rooms.py")
    code, _key = _create_room(at)
    with sqlite_locked():
        joiner = open_page("rooms.py", {"join": code})
        joiner.text_input[0].input("Ada")
        joiner.button[0].click().run()
    assert not joiner.exception, [e.value for e in joiner.exception]
    assert StoreBusy.MESSAGE in texts(joiner)


def test_a_hint_opened_while_the_database_is_locked_shows_and_says_so() -> None:
    at = open_page("rooms.py")
    code, _key = _create_room(at)
    token = learners.join_room(get_store(), settings(), code, "Ada")
    participant = open_page("rooms.py", {"p": token})
    with sqlite_locked():
        participant.button(key=f"hint-btn::{NANSUM}").click().run()
    assert not participant.exception, [e.value for e in participant.exception]
    shown = texts(participant)
    assert StoreBusy.MESSAGE in shown and "Hint 1." in shown


def test_a_room_created_on_an_older_jax_checks_its_exercises_on_it() -> None:
    from app import runtimes

    installed = [r.id for r in runtimes.installed(settings())]
    if len(installed) < 2:
        import pytest

        pytest.skip("one JAX runtime installed: nothing to choose (make setup installs them)")
    oldest = installed[-1]
    at = open_page("rooms.py")
    version_box = next(s for s in at.selectbox if "JAX version" in s.label)
    assert version_box.value == installed[0]  # the newest by default
    version_box.set_value(oldest)
    code, key = _create_room(at)
    dashboard = open_page("rooms.py", {"room": code, "key": key})
    assert f"Runs use JAX {oldest}." in texts(dashboard)
    joiner = open_page("rooms.py", {"join": code})
    joiner.text_input[0].input("Ada")
    joiner.button[0].click().run()
    person = open_page("rooms.py", {"p": joiner.query_params["p"]})
    assert f"Runs use JAX {oldest}." in texts(person)
    person.button(key=f"check::{NANSUM}").click().run()
    assert not person.exception, [e.value for e in person.exception]
    shown = texts(person)
    assert f"JAX {oldest}" in shown, shown[-2000:]  # the verdict's footer: where it ran
