"""What a facilitator of 30 needs from the store, on SQLite and PostgreSQL: a dashboard that says
who is stuck or idle and groups failures by case, a change counter to poll, one participant's
work, a recovery code, removal, join limits, quotas, expiry that deletes, an export that a
spreadsheet cannot turn into formulas, and a clear message when the database is locked."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.config import Settings
from app.protocol import CheckResult, RunResult
from app.rooms import export, learners, rooms
from app.rooms.catalogue import Catalogue, catalogue
from app.rooms.dashboard import IDLE_AFTER_S, STUCK_AFTER_S, dashboard, participant_detail
from app.rooms.inputs import RoomError
from app.rooms.schema import attempts, drafts, participants
from app.rooms.store import Store, StoreBusy
from tests.rooms.test_store import NANSUM, SETTINGS, T0, VMAP, make_room, passed


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return catalogue()


def join(db: Store, code: str, name: str, now: float = T0, **kw: object) -> learners.Learner:
    return learners.learner(db, learners.join_room(db, SETTINGS, code, name, now=now, **kw),
                            now=now)


def test_failures_group_by_check_case_without_its_random_values(
        db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    people = [join(db, room.code, f"P{i}") for i in range(3)]
    for n, (who, values) in enumerate(zip(people, ("[0.31, nan]", "[2.7e-3, nan]", "[-4, nan]"),
                                          strict=True)):
        learners.record_attempt(db, SETTINGS, who, NANSUM.id, f"k{n}", "x",
                                passed(False, f"nansum of {values} under jit"), now=T0 + 1)
    view = dashboard(db, room, now=T0 + 2)
    assert view.errors[NANSUM.id] == [("case: nansum of [#, nan] under jit", 3)]


def test_stuck_and_idle_are_flagged_and_sorted_first(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    busy = join(db, room.code, "Busy")  # active, failing again and again
    gone = join(db, room.code, "Gone")  # joined and left
    fast = join(db, room.code, "Fast")  # passed everything
    slow = join(db, room.code, "Slow")  # active, but no pass for a long while
    now = T0 + STUCK_AFTER_S + 60
    for n in range(3):
        learners.record_attempt(db, SETTINGS, busy, NANSUM.id, f"b{n}", "x", passed(False),
                                now=T0 + 10 + n)
    learners.save_draft(db, SETTINGS, busy, NANSUM.id, "y", now=now - 5)
    for n, exercise in enumerate((NANSUM, VMAP)):
        learners.record_attempt(db, SETTINGS, fast, exercise.id, f"f{n}", "x", passed(True),
                                now=T0 + 20)
    learners.save_draft(db, SETTINGS, slow, VMAP.id, "z", now=now - 5)
    view = dashboard(db, room, now=now)
    state = {r.name: (r.stuck, r.idle) for r in view.rows}
    assert state == {"Busy": (True, False), "Gone": (False, True), "Fast": (False, False),
                     "Slow": (True, False)}
    assert now - T0 >= IDLE_AFTER_S
    assert [r.name for r in view.sorted_rows("stuck")][:2] == ["Busy", "Slow"]
    assert view.sorted_rows("idle")[0].name == "Gone"
    assert [r.name for r in view.sorted_rows("progress")][-1] == "Fast"
    assert [r.name for r in view.sorted_rows("name")] == ["Busy", "Fast", "Gone", "Slow"]
    rooms.close_room(db, room, now=now)  # a closed room asks for no action: no flags
    closed = dashboard(db, room, now=now + 1)
    assert not any(r.stuck or r.idle for r in closed.rows)
    assert closed.room.closed_at == now  # the dashboard reads the room's state afresh
    del gone


def test_the_version_moves_with_every_change_the_dashboard_shows(
        db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    seen = [rooms.room_version(db, room.id)]

    def moved() -> bool:
        seen.append(rooms.room_version(db, room.id))
        return seen[-1] != seen[-2]

    assert not moved()
    ada = join(db, room.code, "Ada")
    assert moved()
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a1", "x", passed(False))
    assert moved()
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a1", "x", passed(False))  # a repeat
    assert not moved()
    learners.reveal_solution(db, ada, NANSUM.id)
    assert moved()
    assert not moved()
    rooms.remove_participant(db, room, ada.id)
    assert moved()
    rooms.close_room(db, room)
    assert moved()
    assert rooms.room_version(db, room.id + 1000) is None


def test_a_participant_s_work_in_detail(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat)
    other, _ = make_room(db, cat, name="Other")
    ada = join(db, room.code, "Ada")
    learners.record_attempt(db, SETTINGS, ada, NANSUM.id, "a1", "FIRST", passed(False, "c1"),
                            now=T0 + 1)
    learners.save_draft(db, SETTINGS, ada, NANSUM.id, "NOW TYPING", now=T0 + 2)
    learners.reveal_hint(db, ada, NANSUM.id, available=3, now=T0 + 3)
    learners.reveal_solution(db, ada, VMAP.id, now=T0 + 4)
    detail = participant_detail(db, room, ada.id)
    assert detail is not None and detail.name == "Ada"
    assert detail.code[NANSUM.id][0] == "NOW TYPING"
    assert [(a.exercise_id, a.passed, a.failed_case) for a in detail.attempts] == [
        (NANSUM.id, False, "c1")]
    assert detail.hints == {NANSUM.id: 1} and detail.solutions_seen == {VMAP.id: T0 + 4}
    assert participant_detail(db, other, ada.id) is None  # only through their own room


def test_a_recovery_code_gives_a_new_facilitator_link_once(db: Store, cat: Catalogue) -> None:
    created = rooms.create_room(db, SETTINGS, cat, name="R", items=[NANSUM], ends_at=None,
                                client_id="c", now=T0)
    assert len(created.recovery_code) == 23  # XXXXX-XXXXX-XXXXX-XXXXX
    with pytest.raises(RoomError, match="does not open this room"):
        rooms.recover(db, created.room.code, "AAAAA-AAAAA-AAAAA-AAAAA", now=T0)
    with pytest.raises(RoomError, match="not valid"):
        rooms.recover(db, created.room.code, "=cmd|x", now=T0)
    typed = f"  {created.recovery_code.lower().replace('-', ' ')} "  # as typed from paper
    again = rooms.recover(db, created.room.code, typed, now=T0 + 1)
    assert again.room.id == created.room.id
    assert rooms.facilitated_room(db, created.room.code, again.token, now=T0 + 1)
    with pytest.raises(RoomError, match="does not open a room here"):
        rooms.facilitated_room(db, created.room.code, created.token, now=T0 + 1)
    with pytest.raises(RoomError, match="does not open this room"):  # the old code is spent
        rooms.recover(db, created.room.code, created.recovery_code, now=T0 + 2)
    with db.read() as conn:  # only hashes are stored
        row = conn.execute(text("SELECT * FROM rooms")).mappings().one()
    assert created.recovery_code.replace("-", "") not in json.dumps(dict(row), default=str)
    assert again.recovery_code.replace("-", "") not in json.dumps(dict(row), default=str)


def test_one_client_cannot_fill_a_room_and_the_facilitator_removes_people(
        db: Store, cat: Catalogue) -> None:
    hosted = Settings(hosted=True)
    room, _ = make_room(db, cat)
    limit = hosted.effective_room_joins_per_client
    for n in range(limit):
        learners.join_room(db, hosted, room.code, f"Bot {n}", now=T0 + n, client_id="10.9.9.9")
    with pytest.raises(RoomError, match="from this connection"):
        learners.join_room(db, hosted, room.code, "Bot x", now=T0 + 9, client_id="10.9.9.9")
    ada = learners.join_room(db, hosted, room.code, "Ada", now=T0 + 10, client_id="10.1.1.1")
    view = dashboard(db, room, now=T0 + 11)
    assert [(r.name, r.joined_at) for r in view.sorted_rows("joined")][-1] == ("Ada", T0 + 10)
    bot = view.rows[0]
    assert rooms.remove_participant(db, room, bot.participant_id)
    assert not rooms.remove_participant(db, room, bot.participant_id)
    assert len(dashboard(db, room).rows) == limit
    learners.join_room(db, hosted, room.code, "Bob", now=T0 + 12, client_id="10.9.9.9")
    ada_who = learners.learner(db, ada, now=T0 + 12)
    assert rooms.remove_participant(db, room, ada_who.id)
    with pytest.raises(RoomError, match="not known here"):
        learners.learner(db, ada, now=T0 + 13)  # a removed person's link stops working


def test_storage_is_bounded_per_person_and_per_room(db: Store, cat: Catalogue) -> None:
    small = Settings(learner_kib=10, room_mib=1)
    room, _ = make_room(db, cat)
    ada = join(db, room.code, "Ada")
    learners.save_draft(db, small, ada, NANSUM.id, "a" * 6000)
    learners.save_draft(db, small, ada, NANSUM.id, "b" * 6000)  # replaces: still 6,000 bytes
    with pytest.raises(RoomError, match="limit"):
        learners.save_draft(db, small, ada, VMAP.id, "c" * 6000)
    assert learners.draft(db, ada, VMAP.id) is None
    # Over the quota an attempt's verdict is recorded, its code is not.
    assert learners.record_attempt(db, small, ada, VMAP.id, "k1", "d" * 6000, passed(True))
    assert learners.progress(db, ada)[VMAP.id].mark == "done"
    with db.read() as conn:
        kept = conn.execute(select(attempts.c.code).where(attempts.c.attempt_key == "k1")
                            ).scalar_one()
        stored = conn.execute(select(func.sum(func.length(drafts.c.code)))).scalar_one()
    assert kept == "" and stored == 6000
    # The room's share: many people, each under their own quota, fill the room's.
    roomy = Settings(learner_kib=1024, room_mib=1)
    people = [join(db, room.code, f"P{i}") for i in range(3)]
    for n in range(10):  # 1,000,000 bytes of the room's 1 MiB
        learners.save_draft(db, roomy, people[n % 3], f"item-{n}", "e" * 100_000)
    with pytest.raises(RoomError, match="limit"):
        learners.save_draft(db, roomy, people[2], "item-10", "g" * 100_000)


def test_personal_links_are_bounded_per_client(db: Store) -> None:
    hosted = Settings(hosted=True)
    limit = hosted.effective_learners_per_hour
    for n in range(limit):
        learners.start_alone(db, now=T0 + n, settings=hosted, client_id="10.2.2.2")
    with pytest.raises(RoomError, match="personal links an hour"):
        learners.start_alone(db, now=T0 + limit, settings=hosted, client_id="10.2.2.2")
    learners.start_alone(db, now=T0 + limit, settings=hosted, client_id="10.3.3.3")
    learners.start_alone(db, now=T0 + 3601, settings=hosted, client_id="10.2.2.2")


def test_expired_rooms_are_deleted_with_everything_in_them(db: Store, cat: Catalogue) -> None:
    hosted = Settings(hosted=True, room_ttl_hours=1.0)
    old, _ = make_room(db, cat, hosted)
    kept, _ = make_room(db, cat, hosted, now=T0 + 1800)
    for room in (old, kept):
        who = join(db, room.code, "Ada", now=T0 + 1800)
        learners.record_attempt(db, SETTINGS, who, NANSUM.id, f"k{room.id}", "x", passed(True),
                                now=T0 + 1800)
    assert rooms.purge_expired(db, now=T0 + 3600, force=True) == 1
    with db.read() as conn:
        left = conn.execute(select(participants.c.room_id)).scalars().all()
        tried = conn.execute(select(func.count()).select_from(attempts)).scalar_one()
    assert left == [kept.id] and tried == 1
    # Creating a room sweeps too (at most once per PURGE_EVERY_S).
    make_room(db, cat, hosted, client_id="x", now=T0 + 3600 + rooms.PURGE_EVERY_S + 1800)
    with db.read() as conn:
        assert conn.execute(select(participants.c.room_id)).scalars().all() == []


def test_the_export_is_complete_and_formula_safe(db: Store, cat: Catalogue) -> None:
    room, _ = make_room(db, cat, name="=HYPERLINK(\"http://x\")")
    evil = join(db, room.code, "=HYPERLINK(\"http://e\",\"x\")")
    plus = join(db, room.code, "+1+1")
    crashed = RunResult(status="error", check=CheckResult(
        False, case="@SUM(A1)", message="m", error_type="-2+3"))
    learners.record_attempt(db, SETTINGS, evil, NANSUM.id, "e1", "x", crashed, now=T0 + 1)
    learners.record_attempt(db, SETTINGS, plus, NANSUM.id, "p1", "x", passed(True), now=T0 + 2)
    learners.reveal_hint(db, plus, VMAP.id, available=3, now=T0 + 3)
    view = dashboard(db, room, now=T0 + 4)
    rows = export.records(db, view, cat)
    table = list(csv.reader(io.StringIO(export.as_csv(rows))))
    assert table[0] == list(export.COLUMNS) and len(table) == 1 + 2 * 2
    for line in table[1:]:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@")), line
    by = {(r[0], r[2]): r for r in table[1:]}
    evil_row = by[("'=HYPERLINK(\"http://e\",\"x\")", NANSUM.id)]
    assert evil_row[4:6] == ["failed", "1"] and evil_row[-1] == "'-2+3"
    assert by[("'+1+1", NANSUM.id)][4] == "passed"
    assert by[("'+1+1", VMAP.id)][8] == "1"  # hints shown
    data = json.loads(export.as_json(view, rows))
    assert data["room"]["name"] == room.name and data["exercises"] == [NANSUM.id, VMAP.id]
    assert {r["participant"] for r in data["results"]} == {evil.name, plus.name}  # JSON: as typed


def test_a_locked_database_gives_a_clear_message_not_a_hang(
        db: Store, cat: Catalogue, tmp_path: Path) -> None:
    room, _ = make_room(db, cat)
    quick = Store(db.url, busy_timeout_ms=300)
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:  # another process's transaction, holding the write lock
        if db.dialect == "sqlite":
            assert db.path is not None
            other = sqlite3.connect(db.path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
        else:
            import psycopg

            other = psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://"))
            other.execute("LOCK TABLE participants, rooms IN ACCESS EXCLUSIVE MODE")
        locked.set()
        release.wait()
        other.rollback() if db.dialect != "sqlite" else other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(StoreBusy, match="did not answer in time") as raised:
            learners.join_room(quick, SETTINGS, room.code, "Ada")
        assert isinstance(raised.value, RoomError)  # the pages show every RoomError's sentence
    finally:
        release.set()
        holder.join()
        quick.close()
    learners.join_room(db, SETTINGS, room.code, "Ada")  # and it works again once released


def test_a_refused_run_starts_no_personal_link(db: Store, cat: Catalogue) -> None:
    from app.rooms.attempts import record_result

    exercise = cat.exercise(NANSUM.id)
    assert exercise is not None
    started: list[learners.Learner] = []

    def start() -> learners.Learner:  # what the page does for someone on their own
        started.append(learners.learner(db, learners.start_alone(db, settings=SETTINGS)))
        return started[-1]

    for n, status in enumerate(("busy", "rejected", "cancelled")):
        assert not record_result(db, SETTINGS, start, exercise, "x", f"r{n}",
                                 RunResult(status=status))
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(participants)).scalar_one() == 0
    assert record_result(db, SETTINGS, start, exercise, "x", "r-ok", passed(False))
    assert len(started) == 1


def test_a_database_of_the_first_schema_is_upgraded_in_place(db: Store, cat: Catalogue) -> None:
    from app.rooms.schema import _V2_COLUMNS, SCHEMA_VERSION

    room, token = make_room(db, cat)
    learners.join_room(db, SETTINGS, room.code, "Kept", now=T0)
    with db.write() as conn:  # back to version 1: the columns added since are gone
        conn.execute(text("DROP INDEX IF EXISTS ix_participants_joined_by"))
        for table, columns in _V2_COLUMNS.items():
            for column in columns:
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column.split()[0]}"))
        conn.execute(text("UPDATE schema_version SET version = 1"))
    again = Store(db.url)
    try:
        assert again.version == SCHEMA_VERSION
        opened = rooms.facilitated_room(again, room.code, token, now=T0)
        assert opened.version == 0 and opened.closed_at is None
        assert [r.name for r in dashboard(again, opened, now=T0).rows] == ["Kept"]
        rooms.close_room(again, opened, now=T0 + 1)
        assert rooms.room_version(again, room.id) == 1
    finally:
        again.close()


def test_a_closed_room_is_not_counted_as_open(db: Store, cat: Catalogue) -> None:
    from app.rooms.activity import open_rooms_and_people

    room, _ = make_room(db, cat)
    other, _ = make_room(db, cat, name="Other")
    join(db, room.code, "Ada")
    join(db, other.code, "Bob")
    assert open_rooms_and_people(db, T0 + 1) == (2, 2)
    rooms.close_room(db, room, now=T0 + 2)
    assert open_rooms_and_people(db, T0 + 3) == (1, 1)


def test_a_room_keeps_the_jax_version_its_facilitator_chose(db: Store, cat: Catalogue) -> None:
    created = rooms.create_room(db, SETTINGS, cat, name="Pinned", items=[NANSUM], ends_at=None,
                                client_id="f", now=T0, jax="0.4.38")
    assert created.room.jax == "0.4.38"
    assert rooms.facilitated_room(db, created.room.code, created.token, now=T0).jax == "0.4.38"
    who = learners.learner(db, learners.join_room(db, SETTINGS, created.room.code, "Ada", now=T0))
    assert who.room is not None and who.room.jax == "0.4.38"
    plain = rooms.create_room(db, SETTINGS, cat, name="Newest", items=[NANSUM], ends_at=None,
                              client_id="f", now=T0)
    assert plain.room.jax is None


def test_a_room_refuses_a_jax_version_that_is_not_a_version(db: Store, cat: Catalogue) -> None:
    with pytest.raises(RoomError, match="JAX version"):
        rooms.create_room(db, SETTINGS, cat, name="Bad", items=[NANSUM], ends_at=None,
                          client_id="f", now=T0, jax="../../etc")
