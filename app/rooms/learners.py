"""The participant's side: join a room (or learn alone), and everything saved as they go:
drafts, attempts, hints and solutions revealed. Each call names the person by their private token;
nothing here returns another participant's code or name."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, case, func, select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.protocol import RunResult
from app.rooms import inputs
from app.rooms.inputs import RoomError
from app.rooms.rooms import (
    Push,
    Room,
    bump,
    live_room,
    recent_pushes,
    room_by_code,
    writable_room,
)
from app.rooms.schema import attempts, drafts, participants, reveals, rooms
from app.rooms.store import Store

Mark = Literal["done", "attempted", "not started"]
ATTEMPT_KEY_CHARS = 64


@dataclass(frozen=True)
class Learner:
    id: int
    name: str  # "" for someone learning alone
    room: Room | None


@dataclass(frozen=True)
class Progress:
    mark: Mark
    attempts: int
    hints_shown: int
    solution_shown: bool


def join_room(store: Store, settings: Settings, room_code: object, name: object,
              now: float | None = None, client_id: str = "local") -> str:
    """A new participant of the room; returns their private token (for their link). client_id
    (app.client_address) bounds how many people one client may add to one room."""
    now = time.time() if now is None else now
    room = room_by_code(store, room_code, now)
    clean = inputs.display_name(name)
    reason = room.read_only_reason(now)
    if reason is not None:
        raise RoomError(f"{reason}; ask the facilitator for a new one.")
    token = inputs.new_token()
    joined_by = inputs.token_hash(f"client:{client_id}")
    with store.write() as conn:
        writable_room(conn, room.id, now, "nobody can join it any more.")
        in_room = participants.c.room_id == room.id
        count = conn.execute(select(func.count()).select_from(participants)
                             .where(in_room)).scalar_one()
        if count >= settings.room_max_participants:
            raise RoomError(f"This room is full ({settings.room_max_participants} people).")
        per_client = settings.effective_room_joins_per_client
        if per_client and conn.execute(
                select(func.count()).select_from(participants)
                .where(in_room, participants.c.joined_by == joined_by)).scalar_one() >= per_client:
            raise RoomError(f"{per_client} people have already joined this room from this "
                            "connection; ask the facilitator if someone else needs to join.")
        conn.execute(participants.insert().values(
            room_id=room.id, token_hash=inputs.token_hash(token), name=clean, joined_at=now,
            last_seen_at=now, joined_by=joined_by))
        bump(conn, room.id)
    return token


def start_alone(store: Store, now: float | None = None, settings: Settings | None = None,
                client_id: str = "local") -> str:
    """A learner outside any room: their progress is kept under the token in their link. Call it
    only when there is something to keep (a recorded attempt): every row is storage."""
    now = time.time() if now is None else now
    token = inputs.new_token()
    started_by = inputs.token_hash(f"client:{client_id}")
    limit = settings.effective_learners_per_hour if settings is not None else 0
    with store.write() as conn:
        if limit and conn.execute(
                select(func.count()).select_from(participants).where(
                    participants.c.room_id.is_(None), participants.c.joined_by == started_by,
                    participants.c.joined_at > now - 3600)).scalar_one() >= limit:
            raise RoomError(f"This server starts at most {limit} personal links an hour for "
                            "one connection; your check ran, but its progress is not saved.")
        conn.execute(participants.insert().values(
            room_id=None, token_hash=inputs.token_hash(token), name="", joined_at=now,
            last_seen_at=now, joined_by=started_by))
    return token


def _learner_row(conn: Connection, token: object) -> object:
    token = inputs.checked_token(token, "personal link")
    row = conn.execute(select(participants).where(
        participants.c.token_hash == inputs.token_hash(token))).first()
    if row is None:
        raise RoomError("This personal link is not known here: it may be mistyped, or its room "
                        "was removed.")
    return row


def learner(store: Store, token: object, now: float | None = None) -> Learner:
    """Who the token belongs to, and their room (RoomError if the room is closed or expired)."""
    now = time.time() if now is None else now
    with store.read() as conn:
        row = _learner_row(conn, token)
        room = live_room(conn, row.room_id, now) if row.room_id is not None else None  # type: ignore[attr-defined]
    return Learner(row.id, row.name, room)  # type: ignore[attr-defined]


def _touch(conn: Connection, learner_id: int, now: float) -> None:
    conn.execute(participants.update().where(participants.c.id == learner_id)
                 .values(last_seen_at=now))


def _keep(conn: Connection, settings: Settings, who: Learner, delta: int) -> bool:
    """Count delta more bytes of code against the person's and the room's quotas; False (and
    nothing counted) when either would be exceeded."""
    if delta > 0:
        used = conn.execute(select(participants.c.stored_bytes)
                            .where(participants.c.id == who.id)).scalar_one()
        if used + delta > settings.learner_kib * 1024:
            return False
        if who.room is not None:
            room_used = conn.execute(select(rooms.c.stored_bytes)
                                     .where(rooms.c.id == who.room.id)).scalar_one()
            if room_used + delta > settings.room_mib * 1024 * 1024:
                return False
    conn.execute(participants.update().where(participants.c.id == who.id)
                 .values(stored_bytes=participants.c.stored_bytes + delta))
    if who.room is not None:
        conn.execute(rooms.update().where(rooms.c.id == who.room.id)
                     .values(stored_bytes=rooms.c.stored_bytes + delta))
    return True


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _writable(conn: Connection, who: Learner, now: float, what: str) -> None:
    if who.room is not None:
        writable_room(conn, who.room.id, now, what)


def save_draft(store: Store, settings: Settings, who: Learner, item_id: object, code: object,
               now: float | None = None) -> None:
    """Keep the person's current code for an item (upsert): a restart or refresh loses nothing.
    RoomError when the room is read-only or the person's or room's quota is full."""
    now = time.time() if now is None else now
    item = inputs.checked_item_id(item_id)
    text = inputs.checked_code(code, settings.code_bytes)
    with store.write() as conn:
        _writable(conn, who, now, "your changes are not saved.")
        old = conn.execute(select(drafts.c.code).where(
            drafts.c.participant_id == who.id, drafts.c.item_id == item)).scalar_one_or_none()
        if not _keep(conn, settings, who, _size(text) - (_size(old) if old is not None else 0)):
            raise RoomError(_QUOTA_FULL.format(kib=settings.learner_kib))
        if old is not None:
            conn.execute(
                drafts.update().where(drafts.c.participant_id == who.id, drafts.c.item_id == item)
                .values(code=text, updated_at=now))
        else:
            conn.execute(drafts.insert().values(participant_id=who.id, item_id=item, code=text,
                                                updated_at=now))
        _touch(conn, who.id, now)


_QUOTA_FULL = ("Your saved code has reached this server's limit ({kib} KiB for one person, or "
               "the room's share): this version is not saved. Your earlier work is kept.")


def draft(store: Store, who: Learner, item_id: str) -> str | None:
    with store.read() as conn:
        return conn.execute(select(drafts.c.code).where(
            drafts.c.participant_id == who.id, drafts.c.item_id == item_id)).scalar_one_or_none()


def record_attempt(store: Store, settings: Settings, who: Learner, exercise_id: str,
                   attempt_key: str, code: str, result: RunResult,
                   now: float | None = None) -> bool:
    """Record one checked submission, exactly once per attempt_key (a retried write or a
    double-click adds nothing); also keeps the code as the draft. True if it was new."""
    now = time.time() if now is None else now
    if not attempt_key or len(attempt_key) > ATTEMPT_KEY_CHARS:
        raise RoomError("This attempt has no valid id.")
    text = inputs.checked_code(code, settings.code_bytes)
    check = result.check
    passed = bool(check is not None and check.passed and result.status == "ok")
    failed_case = None if passed or check is None else (check.case or "")[:200]
    error_type = (check.error_type if check is not None else None) or (
        result.error.type if result.error is not None else None)
    if check is None and error_type is None and result.status != "ok":
        error_type = result.status  # timeout, memory...: the run's own status
    message = check.message if check is not None else result.message
    with store.write() as conn:
        _writable(conn, who, now, "new attempts are not recorded.")
        exists = conn.execute(select(attempts.c.id).where(
            attempts.c.attempt_key == attempt_key)).first()
        if exists is not None:
            return False
        old = conn.execute(select(drafts.c.code).where(
            drafts.c.participant_id == who.id, drafts.c.item_id == exercise_id)
        ).scalar_one_or_none()
        size = _size(text)
        # Over the quota the verdict is still recorded (progress, the dashboard), not the code.
        keep = _keep(conn, settings, who, 2 * size - (_size(old) if old is not None else 0))
        try:
            # A savepoint: a concurrent insert of the same key (PostgreSQL, read committed)
            # loses on the unique constraint without aborting this transaction.
            with conn.begin_nested():
                conn.execute(attempts.insert().values(
                    participant_id=who.id, exercise_id=exercise_id, attempt_key=attempt_key,
                    submitted_at=now, passed=passed, status=result.status,
                    failed_case=failed_case, error_type=error_type[:100] if error_type else None,
                    message=message[:2000], code=text if keep else ""))
        except IntegrityError:
            return False
        if keep and old is not None:
            conn.execute(
                drafts.update().where(drafts.c.participant_id == who.id,
                                      drafts.c.item_id == exercise_id)
                .values(code=text, updated_at=now))
        elif keep:
            conn.execute(drafts.insert().values(participant_id=who.id, item_id=exercise_id,
                                                code=text, updated_at=now))
        _touch(conn, who.id, now)
        if who.room is not None:
            bump(conn, who.room.id)
    return True


def reveal_hint(store: Store, who: Learner, exercise_id: str, available: int,
                now: float | None = None) -> int:
    """Show one more hint (up to the exercise's count); returns how many are shown now."""
    return _reveal(store, who, exercise_id, now, hints_available=available)


def reveal_solution(store: Store, who: Learner, exercise_id: str,
                    now: float | None = None) -> None:
    """The person asked for the solution: recorded (the dashboard may show it)."""
    _reveal(store, who, exercise_id, now, solution=True)


def _reveal(store: Store, who: Learner, exercise_id: str, now: float | None, *,
            hints_available: int = 0, solution: bool = False) -> int:
    now = time.time() if now is None else now
    with store.write() as conn:
        row = conn.execute(select(reveals).where(
            reveals.c.participant_id == who.id, reveals.c.exercise_id == exercise_id)).first()
        shown = row.hints_shown if row is not None else 0
        if hints_available:
            shown = min(shown + 1, hints_available)
        if who.room is not None and live_room(conn, who.room.id, now).read_only(now):
            return shown  # reading a hint in a read-only room is fine; it is not recorded
        values = {"hints_shown": shown}
        if solution and (row is None or row.solution_shown_at is None):
            values["solution_shown_at"] = now
        if row is None:
            conn.execute(reveals.insert().values(participant_id=who.id, exercise_id=exercise_id,
                                                 **values))
        else:
            conn.execute(reveals.update().where(
                reveals.c.participant_id == who.id, reveals.c.exercise_id == exercise_id)
                .values(**values))
        _touch(conn, who.id, now)
        if who.room is not None:
            bump(conn, who.room.id)
    return shown


def progress(store: Store, who: Learner) -> dict[str, Progress]:
    """The person's own mark per exercise they touched (absent: not started)."""
    with store.read() as conn:
        tried = conn.execute(
            select(attempts.c.exercise_id, func.count().label("n"),
                   func.max(case((attempts.c.passed.is_(True), 1), else_=0)).label("passed"))
            .where(attempts.c.participant_id == who.id).group_by(attempts.c.exercise_id)
        ).all()
        shown = conn.execute(select(reveals).where(reveals.c.participant_id == who.id)).all()
    hints = {r.exercise_id: (r.hints_shown, r.solution_shown_at is not None) for r in shown}
    out: dict[str, Progress] = {}
    for r in tried:
        h, s = hints.get(r.exercise_id, (0, False))
        out[r.exercise_id] = Progress("done" if r.passed else "attempted", int(r.n), h, s)
    for exercise_id, (h, s) in hints.items():
        if exercise_id not in out:
            out[exercise_id] = Progress("not started", 0, h, s)
    return out


def unseen_pushes(store: Store, who: Learner) -> list[Push]:
    """What the facilitator pushed since this person last acknowledged, newest first."""
    if who.room is None:
        return []
    with store.read() as conn:
        seen = conn.execute(select(participants.c.seen_push_id).where(
            participants.c.id == who.id)).scalar_one()
        return recent_pushes(conn, who.room.id, after_id=int(seen))


def latest_solution(store: Store, who: Learner, exercise_id: str) -> str | None:
    """The anonymised solution the facilitator showed for this exercise, if any."""
    if who.room is None:
        return None
    with store.read() as conn:
        found = [p for p in recent_pushes(conn, who.room.id, limit=50)
                 if p.kind == "solution" and p.item_id == exercise_id]
    return found[0].code if found else None


def acknowledge_pushes(store: Store, who: Learner, up_to: int) -> None:
    with store.write() as conn:
        conn.execute(participants.update().where(participants.c.id == who.id,
                                                 participants.c.seen_push_id < up_to)
                     .values(seen_push_id=up_to))
