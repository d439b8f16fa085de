"""The participant's side of the store: a check the busy server stopped is not an attempt, the
room's pulse (what a participant's page polls) changes with a push and with the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.exercises import load_exercises
from app.protocol import RunResult
from app.rooms import learners, rooms
from app.rooms.attempts import check_request, record_result
from app.rooms.catalogue import Catalogue, Item, catalogue
from app.rooms.pulse import pulse
from app.rooms.store import Store

SETTINGS = Settings()
NANSUM = load_exercises().by_id("sharp-bits/jit-nansum")
T0 = 1_800_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'rooms' / 'playground.db'}")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return catalogue()


def test_a_check_the_busy_server_stopped_is_no_attempt(db: Store) -> None:
    assert NANSUM is not None
    who = learners.learner(db, learners.start_alone(db))
    stopped = RunResult(status="timeout", message="Stopped: the run took longer than 10 s.")
    assert not record_result(db, SETTINGS, who, NANSUM, NANSUM.starter, "k1", stopped,
                             server_busy=True)
    assert learners.progress(db, who) == {}
    # The same stop on a quiet server is the code's: a failed attempt.
    assert record_result(db, SETTINGS, who, NANSUM, NANSUM.starter, "k2", stopped)
    assert learners.progress(db, who)[NANSUM.id].mark == "attempted"


def test_a_check_gets_more_than_the_default_limit() -> None:
    assert NANSUM is not None
    request = check_request(NANSUM, NANSUM.starter, "k", settings=SETTINGS)
    assert request.timeout_s is not None and request.timeout_s > SETTINGS.timeout_s
    assert request.timeout_s <= SETTINGS.max_timeout_s


def test_the_pulse_changes_with_a_push_and_with_the_end(db: Store, cat: Catalogue) -> None:
    room = rooms.create_room(db, SETTINGS, cat, name="Tuesday",
                                items=[Item("exercise", "sharp-bits/jit-nansum")],
                                ends_at=T0 + 600, client_id="x", now=T0).room
    before = pulse(db, room.id)
    assert before is not None and before.latest_push == 0 and not before.ended(T0)
    rooms.push_item(db, room, room.items[0], now=T0 + 1)
    after = pulse(db, room.id)
    assert after is not None and after.latest_push > before.latest_push
    assert after.ended(T0 + 600)
    rooms.close_room(db, room, now=T0 + 2)
    closed = pulse(db, room.id)
    assert closed is not None and closed.closed and closed.ended(T0 + 3)
    assert pulse(db, room.id + 1000) is None
