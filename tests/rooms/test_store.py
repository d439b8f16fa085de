"""The rooms store on SQLite and on a real PostgreSQL: the same behaviour, bad input refused
with a clear message, every attempt recorded exactly once, nothing half-written."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.protocol import CheckResult, RunResult
from app.rooms import learners, rooms
from app.rooms.catalogue import Catalogue, Item, catalogue
from app.rooms.dashboard import dashboard
from app.rooms.inputs import RoomError
from app.rooms.schema import SCHEMA_VERSION, attempts, participants
from app.rooms.store import Store, StoreUnavailable

SETTINGS = Settings()
NANSUM = Item("exercise", "sharp-bits/jit-nansum")
VMAP = Item("exercise", "core-transformations/vmap-in-axes")
SNIPPET = Item("snippet", "core-transformations/grad")
T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return catalogue()


def passed(ok: bool, case: str = "a case") -> RunResult:
    check = CheckResult(True, passed_cases=[case]) if ok else CheckResult(
        False, case=case, message="wrong", error_type=None)
    return RunResult(status="ok", check=check)


def make_room(db: Store, cat: Catalogue, settings: Settings = SETTINGS, **kwargs: object):
    values = {"name": "Tuesday", "items": [NANSUM, VMAP, SNIPPET], "ends_at": None,
              "client_id": "10.0.0.1", "now": T0}
    values.update(kwargs)
    created = rooms.create_room(db, settings, cat, **values)  # type: ignore[arg-type]
    return created.room, created.token


def test_the_schema_is_versioned_and_opening_again_migrates_nothing(db: Store) -> None:
    assert db.version == SCHEMA_VERSION
    again = Store(db.url)
    assert again.version == SCHEMA_VERSION
    again.close()


def test_a_room_opens_with_its_secret_token_only(db: Store, cat: Catalogue) -> None:
    room, token = make_room(db, cat)
    assert rooms.facilitated_room(db, room.code, token, now=T0).id == room.id
    other = Item("exercise", "pytrees/count-parameters")
    _other_room, second_token = make_room(db, cat, items=[other])
    with pytest.raises(RoomError, match="not valid"):
        rooms.facilitated_room(db, room.code, "short", now=T0)
    # An unknown code and a known code with a wrong key: word for word the same answer.
    answers = []
    for code, key in ((room.code, second_token), ("unknown-room", token)):
        with pytest.raises(RoomError) as refused:
            rooms.facilitated_room(db, code, key, now=T0)
        answers.append(str(refused.value))
    assert answers[0] == answers[1] == rooms.FACILITATOR_LINK_REFUSED


def test_bad_room_input_gets_a_clear_message(db: Store, cat: Catalogue) -> None:
    with pytest.raises(RoomError, match="room name is empty"):
        make_room(db, cat, name=" \u200b\n ")
    with pytest.raises(RoomError, match="at most 80"):
        make_room(db, cat, name="x" * 81)
    with pytest.raises(RoomError, match="at least one"):
        make_room(db, cat, items=[])
    with pytest.raises(RoomError, match="Not in this playground: no/such"):
        make_room(db, cat, items=[Item("exercise", "no/such")])
    with pytest.raises(RoomError, match="in the past"):
        make_room(db, cat, ends_at=T0 - 1)


def test_names_are_kept_as_typed_text_without_control_characters(
        db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat, name="A <b>room</b> [x](http://e)\u202e")
    assert room.name == "A <b>room</b> [x](http://e)"
    token = learners.join_room(db, SETTINGS, room.code, "  Ada\u0000  Lovelace\u200b ", now=T0)
    assert learners.learner(db, token, now=T0).name == "Ada Lovelace"
    with pytest.raises(RoomError, match="at most 40"):
        learners.join_room(db, SETTINGS, room.code, "n" * 41, now=T0)
    with pytest.raises(RoomError, match="display name is empty"):
        learners.join_room(db, SETTINGS, room.code, "\u202e\u0007", now=T0)


def test_hosted_rooms_are_rate_limited_and_expire(db: Store, cat: Catalogue) -> None:
    hosted = Settings(hosted=True, rooms_per_hour=2, room_ttl_hours=1.0)
    room, token = make_room(db, cat, hosted)
    make_room(db, cat, hosted, now=T0 + 10)
    with pytest.raises(RoomError, match="2 rooms an hour"):
        make_room(db, cat, hosted, now=T0 + 20)
    make_room(db, cat, hosted, client_id="10.0.0.2", now=T0 + 20)  # someone else may
    participant = learners.join_room(db, hosted, room.code, "Ada", now=T0 + 5)
    with pytest.raises(RoomError, match="expired"):
        rooms.facilitated_room(db, room.code, token, now=T0 + 3600)
    with pytest.raises(RoomError, match="expired"):
        learners.learner(db, participant, now=T0 + 3600)
    make_room(db, cat, hosted, now=T0 + 3601)  # an hour later, again (and the first is swept)
    with pytest.raises(RoomError, match="not known here"):
        learners.learner(db, participant, now=T0 + 3601)


def test_a_closed_room_and_an_ended_room_are_read_only_and_readable(
        db: Store, cat: Catalogue) -> None:
    room, token = make_room(db, cat, ends_at=T0 + 60)
    ada_token = learners.join_room(db, SETTINGS, room.code, "Ada", now=T0)
    who = learners.learner(db, ada_token, now=T0)
    learners.record_attempt(db, SETTINGS, who, NANSUM.id, "k-1", "ADA'S CODE", passed(False),
                            now=T0 + 1)
    with pytest.raises(RoomError, match="has ended"):
        learners.record_attempt(db, SETTINGS, who, NANSUM.id, "k-late", "x", passed(True),
                                now=T0 + 61)
    with pytest.raises(RoomError, match="has ended"):
        learners.join_room(db, SETTINGS, room.code, "Late", now=T0 + 61)
    # Past its end time the work stays readable, for the participant and the facilitator.
    after = learners.learner(db, ada_token, now=T0 + 61)
    assert after.room is not None and after.room.read_only(T0 + 61)
    assert learners.draft(db, after, NANSUM.id) == "ADA'S CODE"
    assert rooms.facilitated_room(db, room.code, token, now=T0 + 61).id == room.id

    open_room, open_token = make_room(db, cat, name="Open")
    bob_token = learners.join_room(db, SETTINGS, open_room.code, "Bob", now=T0)
    bob = learners.learner(db, bob_token, now=T0)
    learners.save_draft(db, SETTINGS, bob, NANSUM.id, "BOB'S DRAFT", now=T0 + 1)
    rooms.close_room(db, open_room, now=T0 + 2)
    closed = rooms.facilitated_room(db, open_room.code, open_token, now=T0 + 3)
    assert closed.closed_at == T0 + 2 and closed.read_only(T0 + 3)
    bob = learners.learner(db, bob_token, now=T0 + 3)  # the participant still gets in
    assert learners.draft(db, bob, NANSUM.id) == "BOB'S DRAFT"
    assert learners.progress(db, bob) == {}
    assert [r.name for r in dashboard(db, closed, now=T0 + 3).rows] == ["Bob"]
    with pytest.raises(RoomError, match="closed by its facilitator"):
        learners.record_attempt(db, SETTINGS, bob, NANSUM.id, "k-2", "x", passed(True),
                                now=T0 + 4)
    with pytest.raises(RoomError, match="closed by its facilitator"):
        learners.save_draft(db, SETTINGS, bob, NANSUM.id, "changed", now=T0 + 4)
    with pytest.raises(RoomError, match="closed by its facilitator"):
        learners.join_room(db, SETTINGS, open_room.code, "Late", now=T0 + 4)
    with pytest.raises(RoomError, match="closed by its facilitator"):
        rooms.push_item(db, closed, NANSUM, now=T0 + 4)
    # A hint read in a closed room is shown, not recorded, and raises nothing.
    assert learners.reveal_hint(db, bob, NANSUM.id, available=3, now=T0 + 4) == 1
    assert learners.progress(db, bob) == {}


def test_invalid_personal_links_are_refused(db: Store) -> None:
    with pytest.raises(RoomError, match="not valid"):
        learners.learner(db, "bad token!")
    with pytest.raises(RoomError, match="not known here"):
        learners.learner(db, "A" * 24)


def test_drafts_and_progress_survive_a_new_store(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    token = learners.join_room(db, SETTINGS, room.code, "Ada", now=T0)
    who = learners.learner(db, token, now=T0)
    learners.save_draft(db, SETTINGS, who, NANSUM.id, "first", now=T0 + 1)
    learners.save_draft(db, SETTINGS, who, NANSUM.id, "second", now=T0 + 2)
    learners.record_attempt(db, SETTINGS, who, VMAP.id, "k1", "vmap code", passed(False),
                            now=T0 + 3)
    learners.reveal_hint(db, who, NANSUM.id, available=3, now=T0 + 4)
    learners.reveal_hint(db, who, NANSUM.id, available=3, now=T0 + 5)
    learners.reveal_solution(db, who, NANSUM.id, now=T0 + 6)
    reopened = Store(db.url)  # what a server restart does
    again = learners.learner(reopened, token, now=T0 + 7)
    assert learners.draft(reopened, again, NANSUM.id) == "second"
    assert learners.draft(reopened, again, VMAP.id) == "vmap code"  # an attempt is a draft too
    marks = learners.progress(reopened, again)
    assert marks[VMAP.id].mark == "attempted" and marks[VMAP.id].attempts == 1
    assert marks[NANSUM.id].hints_shown == 2 and marks[NANSUM.id].solution_shown
    reopened.close()


def test_code_over_the_limit_is_refused(db: Store, cat: Catalogue) -> None:
    who = learners.learner(db, learners.start_alone(db, now=T0), now=T0)
    small = Settings(code_bytes=1024)
    with pytest.raises(RoomError, match="limit is 1 KiB"):
        learners.save_draft(db, small, who, NANSUM.id, "x" * 2048)
    with pytest.raises(RoomError, match="does not exist"):
        learners.save_draft(db, small, who, "", "x")


def test_an_attempt_is_recorded_once_whatever_the_retries(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    who = learners.learner(db, learners.join_room(db, SETTINGS, room.code, "Ada", now=T0),
                           now=T0)
    assert learners.record_attempt(db, SETTINGS, who, NANSUM.id, "key-1", "c", passed(False))
    assert not learners.record_attempt(db, SETTINGS, who, NANSUM.id, "key-1", "c", passed(False))

    def hammer() -> None:  # 8 threads race to record the same 5 attempts
        for n in range(5):
            learners.record_attempt(db, SETTINGS, who, NANSUM.id, f"race-{n}", "c", passed(True))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as conn:
        keys = conn.execute(select(attempts.c.attempt_key)).scalars().all()
    assert sorted(keys) == sorted(["key-1", *(f"race-{n}" for n in range(5))])


def test_concurrent_participants_lose_no_attempt(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    people = [learners.learner(db, learners.join_room(db, SETTINGS, room.code, f"P{i}"))
              for i in range(10)]

    def submit(who: learners.Learner) -> None:
        for n in range(6):
            learners.record_attempt(db, SETTINGS, who, NANSUM.id, uuid.uuid4().hex, f"code {n}",
                                    passed(n == 5))

    threads = [threading.Thread(target=submit, args=(who,)) for who in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    view = dashboard(db, room)
    assert [r.cells[NANSUM.id].attempts for r in view.rows] == [6] * 10
    assert view.passed_count(NANSUM.id) == 10


def test_a_failed_write_leaves_nothing_half_done(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(participants.insert().values(
            room_id=room.id, token_hash="h" * 64, name="Ghost", joined_at=T0, last_seen_at=T0))
        raise RuntimeError("the process dies mid-transaction")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(participants)).scalar_one() == 0


def test_the_dashboard_shows_each_state_and_the_common_errors(
        db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    ada, bob, cy = (learners.learner(db, learners.join_room(db, SETTINGS, room.code, n, now=T0),
                                     now=T0) for n in ("Ada", "Bob", "Cy"))
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a1", "x", passed(False, "under jit"))
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a2", "x", passed(True))
    crashed = RunResult(status="error", check=CheckResult(
        False, case="your code runs to the end", message="m", error_type="TypeError"))
    learners.record_attempt(db, SETTINGS, bob, NANSUM.id, "b1", "x", crashed)
    learners.record_attempt(db, SETTINGS, bob, NANSUM.id, "b2", "x", passed(False, "under jit"))
    learners.record_attempt(db, SETTINGS, bob, NANSUM.id, "b3", "x", passed(False, "under jit"))
    view = dashboard(db, room)
    cells = {r.name: r.cells.get(NANSUM.id) for r in view.rows}
    assert cells["Ada"].state == "passed" and cells["Ada"].attempts == 2
    assert cells["Bob"].state == "failed" and cells["Bob"].attempts == 3
    assert cells["Cy"] is None
    assert view.errors[NANSUM.id] == [("case: under jit", 3), ("TypeError", 1)]
    assert view.exercises == [NANSUM.id, VMAP.id]
    del cy


def test_pushes_and_shown_solutions_reach_participants_without_names(
        db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    ada = learners.learner(db, learners.join_room(db, SETTINGS, room.code, "Ada", now=T0), now=T0)
    bob = learners.learner(db, learners.join_room(db, SETTINGS, room.code, "Bob", now=T0), now=T0)
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a1", "ADA'S CODE", passed(True))
    learners.record_attempt(db, SETTINGS, bob, NANSUM.id, "b1", "BOB'S CODE", passed(False))
    rooms.push_item(db, room, SNIPPET)
    found = rooms.passing_solutions(db, room, NANSUM.id)
    assert [s.code for s in found] == ["ADA'S CODE"]  # failing code is never offered
    with pytest.raises(RoomError, match="not a passing attempt"):
        bob_attempt = next(a for a in _attempt_ids(db) if a[1] == "BOB'S CODE")[0]
        rooms.show_solution(db, room, NANSUM.id, bob_attempt)
    rooms.show_solution(db, room, NANSUM.id, found[0].attempt_id)
    seen = learners.unseen_pushes(db, bob)
    assert [(p.kind, p.item_id) for p in seen] == [("solution", NANSUM.id),
                                                   ("snippet", SNIPPET.id)]
    assert learners.latest_solution(db, bob, NANSUM.id) == "ADA'S CODE"
    learners.acknowledge_pushes(db, bob, seen[0].id)
    assert learners.unseen_pushes(db, bob) == []
    assert len(learners.unseen_pushes(db, ada)) == 2  # each person acknowledges for themselves
    with pytest.raises(RoomError, match="room's own"):
        rooms.push_item(db, room, Item("exercise", "pytrees/count-parameters"))


def _attempt_ids(db: Store) -> list[tuple[int, str]]:
    with db.read() as conn:
        return [(r.id, r.code) for r in conn.execute(select(attempts.c.id, attempts.c.code))]


def test_a_participant_cannot_reach_another_room_or_person(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    other, _ = make_room(db, cat, name="Other")
    ada = learners.learner(db, learners.join_room(db, SETTINGS, room.code, "Ada", now=T0), now=T0)
    eve = learners.learner(db, learners.join_room(db, SETTINGS, other.code, "Eve", now=T0),
                           now=T0)
    learners.save_draft(db, SETTINGS, ada, NANSUM.id, "ADA'S DRAFT")
    assert learners.draft(db, eve, NANSUM.id) is None
    rooms.push_item(db, room, NANSUM)
    assert learners.unseen_pushes(db, eve) == []
    assert learners.progress(db, eve) == {}


def test_a_database_in_a_system_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="folder of its own"):
        Store("sqlite:////var/playground.db")


def test_a_process_killed_mid_write_loses_only_that_write(tmp_path: Path, cat: Catalogue) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'crash' / 'playground.db'}"
    store = Store(url)
    room, _ = make_room(store, cat)
    learners.join_room(store, SETTINGS, room.code, "Kept", now=T0)
    store.close()
    crash = (
        "import os\nfrom app.rooms.store import Store\nfrom app.rooms.schema import participants\n"
        f"store = Store({url!r})\n"
        "with store.write() as conn:\n"
        f"    conn.execute(participants.insert().values(room_id={room.id}, token_hash='h' * 64,"
        " name='Lost', joined_at=0.0, last_seen_at=0.0))\n"
        "    os._exit(9)  # the process dies before the commit\n")
    done = subprocess.run([sys.executable, "-c", crash], cwd=Path(__file__).parents[2],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 9, done.stderr.decode()
    reopened = Store(url)
    with reopened.read() as conn:
        names = conn.execute(select(participants.c.name)).scalars().all()
        integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    reopened.close()
    assert names == ["Kept"] and integrity == "ok"
