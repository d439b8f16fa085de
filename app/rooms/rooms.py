"""The facilitator's side of a room: create it, open it with the secret token (or get a new one
with the recovery code), push items to it, show an anonymised passing solution, remove a
participant, close it (read-only from then on), and sweep expired rooms away.

Every change a dashboard shows bumps the room's `version` in the same transaction, so a dashboard
redraws only when the number moved (one indexed read per poll)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, func, select

from app import runtimes
from app.config import Settings
from app.rooms import inputs
from app.rooms.catalogue import Catalogue, Item
from app.rooms.inputs import RoomError
from app.rooms.schema import attempts, drafts, participants, pushes, reveals, rooms
from app.rooms.store import Store

HOUR_S = 3600.0


@dataclass(frozen=True)
class Room:
    id: int
    code: str  # public: the join link carries it
    name: str
    items: tuple[Item, ...]
    created_at: float
    ends_at: float | None
    expires_at: float | None
    closed_at: float | None = None
    version: int = 0
    jax: str | None = None  # the JAX runtime its runs use; None: the server's newest

    def ended(self, now: float) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def read_only(self, now: float) -> bool:
        """Closed or past its end time: everything stays readable, nothing new is recorded."""
        return self.closed_at is not None or self.ended(now)

    def read_only_reason(self, now: float) -> str | None:
        if self.closed_at is not None:
            return "This room was closed by its facilitator"
        if self.ended(now):
            return "This room has ended"
        return None

    def exercise_ids(self) -> list[str]:
        return [i.id for i in self.items if i.kind == "exercise"]


@dataclass(frozen=True)
class Push:
    id: int
    kind: str  # "exercise", "snippet" or "solution"
    item_id: str
    code: str | None  # a shown solution's code
    pushed_at: float


def _room(row: object) -> Room:
    items = tuple(Item(i["kind"], i["id"]) for i in json.loads(row.items))  # type: ignore[attr-defined]
    return Room(row.id, row.code, row.name, items, row.created_at,  # type: ignore[attr-defined]
                row.ends_at, row.expires_at, row.closed_at, int(row.version),  # type: ignore[attr-defined]
                row.jax)  # type: ignore[attr-defined]


def live_room(conn: Connection, room_id: int, now: float) -> Room:
    """The room (closed or ended rooms too: they are read-only, not gone), or the RoomError a
    person should see: removed or expired."""
    row = conn.execute(select(rooms).where(rooms.c.id == room_id)).first()
    return _check_live(row, now)


def writable_room(conn: Connection, room_id: int, now: float, what: str) -> Room:
    """The room, if it still records changes; else RoomError: '<closed/ended>: <what>'."""
    room = live_room(conn, room_id, now)
    reason = room.read_only_reason(now)
    if reason is not None:
        raise RoomError(f"{reason}: {what}")
    return room


def bump(conn: Connection, room_id: int) -> None:
    """Something the dashboard shows changed (inside the change's own transaction)."""
    conn.execute(rooms.update().where(rooms.c.id == room_id)
                 .values(version=rooms.c.version + 1))


def room_version(store: Store, room_id: int) -> int | None:
    """The room's change counter (None: gone): what a dashboard polls."""
    with store.read() as conn:
        found = conn.execute(select(rooms.c.version).where(rooms.c.id == room_id)).scalar()
    return None if found is None else int(found)


def _check_live(row: object | None, now: float) -> Room:
    if row is None:
        raise RoomError("There is no such room: it may have been removed.")
    if row.deleted_at is not None:  # type: ignore[attr-defined]
        raise RoomError("This room was removed from the server.")
    if row.expires_at is not None and now >= row.expires_at:  # type: ignore[attr-defined]
        raise RoomError("This room has expired (rooms on this server last "
                        f"{(row.expires_at - row.created_at) / HOUR_S:g} hours).")  # type: ignore[attr-defined]
    return _room(row)


@dataclass(frozen=True)
class Created:
    room: Room
    token: str  # the facilitator link's secret
    recovery_code: str  # shown once: gets a new facilitator link if the link is lost


def create_room(store: Store, settings: Settings, catalogue: Catalogue, *, name: str,
                items: Sequence[Item], ends_at: float | None, client_id: str,
                now: float | None = None, jax: str | None = None) -> Created:
    """A new room, its facilitator token and its recovery code (both shown once; only their
    hashes are kept). jax: the JAX runtime every run of the room uses (None: the newest)."""
    now = time.time() if now is None else now
    purge_expired(store, now)
    clean_name = inputs.room_name(name)
    chosen = list(dict.fromkeys(items))
    if not chosen:
        raise RoomError("Choose at least one exercise or snippet for the room.")
    if len(chosen) > inputs.MAX_ITEMS:
        raise RoomError(f"A room holds at most {inputs.MAX_ITEMS} exercises and snippets.")
    unknown = [i.id for i in chosen if not catalogue.exists(i)]
    if unknown:
        raise RoomError(f"Not in this playground: {', '.join(unknown[:3])}.")
    if ends_at is not None and ends_at <= now:
        raise RoomError("The end time is in the past.")
    if jax is not None and (not isinstance(jax, str) or not runtimes.ID_PATTERN.match(jax)):
        raise RoomError("That JAX version is not one this playground names.")
    ttl = settings.effective_room_ttl_hours
    expires_at = now + ttl * HOUR_S if ttl else None
    if expires_at is not None and ends_at is not None:
        ends_at = min(ends_at, expires_at)
    creator = inputs.token_hash(f"client:{client_id}")
    token = inputs.new_token()
    recovery = inputs.new_recovery_code()
    with store.write() as conn:
        limit = settings.effective_rooms_per_hour
        if limit:
            recent = conn.execute(
                select(func.count()).select_from(rooms).where(
                    rooms.c.created_by == creator, rooms.c.created_at > now - HOUR_S)
            ).scalar_one()
            if recent >= limit:
                raise RoomError(f"This server lets one person create {limit} rooms an hour; "
                                "try again later.")
        code = inputs.new_room_code()
        room_id = _new_id(conn.execute(rooms.insert().values(
            code=code, facilitator_hash=inputs.token_hash(token), name=clean_name,
            recovery_hash=inputs.token_hash(inputs.recovery_key(recovery)),
            items=json.dumps([{"kind": i.kind, "id": i.id} for i in chosen]),
            created_by=creator, created_at=now, ends_at=ends_at, expires_at=expires_at,
            jax=jax,
        )))
        room = live_room(conn, int(room_id), now)
    return Created(room, token, recovery)


# One sentence for an unknown room and a wrong key: the answer must not tell which codes exist.
FACILITATOR_LINK_REFUSED = ("This facilitator link does not open a room here: check that it was "
                            "copied whole, or use the room's recovery code.")


def facilitated_room(store: Store, code: object, token: object,
                     now: float | None = None) -> Room:
    """The room behind a facilitator link; RoomError unless the secret token matches."""
    now = time.time() if now is None else now
    code = inputs.checked_room_code(code)
    token = inputs.checked_token(token, "facilitator link")
    with store.read() as conn:
        row = conn.execute(select(rooms).where(rooms.c.code == code)).first()
        # One answer for an unknown code and a wrong key: a guess learns neither which
        # codes exist nor that it found one.
        if row is None or not _same(row.facilitator_hash, inputs.token_hash(token)):
            raise RoomError(FACILITATOR_LINK_REFUSED)
        return _check_live(row, now)


def recover(store: Store, code: object, recovery_code: object,
            now: float | None = None) -> Created:
    """A new facilitator token and a new recovery code for the room, given its recovery code;
    the old link and code stop working (a lost link may be in someone else's hands)."""
    now = time.time() if now is None else now
    code = inputs.checked_room_code(code)
    key = inputs.recovery_key(recovery_code)
    token, recovery = inputs.new_token(), inputs.new_recovery_code()
    with store.write() as conn:
        row = conn.execute(select(rooms).where(rooms.c.code == code)).first()
        if row is None or row.recovery_hash is None or not _same(
                row.recovery_hash, inputs.token_hash(key)):
            raise RoomError("This recovery code does not open this room: check the code and "
                            "the room's link.")
        _check_live(row, now)
        conn.execute(rooms.update().where(rooms.c.id == row.id).values(
            facilitator_hash=inputs.token_hash(token),
            recovery_hash=inputs.token_hash(inputs.recovery_key(recovery))))
        room = live_room(conn, int(row.id), now)
    return Created(room, token, recovery)


def room_by_code(store: Store, code: object, now: float | None = None) -> Room:
    """The room a join link names (public information only)."""
    now = time.time() if now is None else now
    code = inputs.checked_room_code(code)
    with store.read() as conn:
        return _check_live(conn.execute(select(rooms).where(rooms.c.code == code)).first(), now)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a, b)


def push_item(store: Store, room: Room, item: Item, now: float | None = None) -> Push:
    """Put an exercise or snippet of the room in front of every participant."""
    now = time.time() if now is None else now
    if item not in room.items:
        raise RoomError("Only the room's own exercises and snippets can be pushed.")
    with store.write() as conn:
        writable_room(conn, room.id, now, "nothing can be pushed.")
        push_id = _new_id(conn.execute(pushes.insert().values(
            room_id=room.id, kind=item.kind, item_id=item.id, pushed_at=now,
        )))
    return Push(int(push_id), item.kind, item.id, None, now)


@dataclass(frozen=True)
class PassingSolution:
    attempt_id: int
    code: str  # no name, no participant id: what everyone may see


def passing_solutions(store: Store, room: Room, exercise_id: str,
                      limit: int = 20) -> list[PassingSolution]:
    """The latest passing attempt of each participant who passed, newest first, anonymised."""
    with store.read() as conn:
        latest = (
            select(func.max(attempts.c.id).label("id"))
            .select_from(attempts.join(participants))
            .where(participants.c.room_id == room.id, attempts.c.exercise_id == exercise_id,
                   attempts.c.passed.is_(True))
            .group_by(attempts.c.participant_id)
            .subquery()
        )
        rows = conn.execute(
            select(attempts.c.id, attempts.c.code).where(attempts.c.id.in_(select(latest.c.id)))
            .order_by(attempts.c.id.desc()).limit(limit)
        ).all()
    return [PassingSolution(int(r.id), r.code) for r in rows]


def show_solution(store: Store, room: Room, exercise_id: str, attempt_id: int,
                  now: float | None = None) -> Push:
    """Show one passing attempt's code to the whole room, without its author."""
    now = time.time() if now is None else now
    with store.write() as conn:
        writable_room(conn, room.id, now, "nothing can be shown.")
        row = conn.execute(
            select(attempts.c.code).select_from(attempts.join(participants)).where(
                attempts.c.id == attempt_id, attempts.c.exercise_id == exercise_id,
                attempts.c.passed.is_(True), participants.c.room_id == room.id)
        ).first()
        if row is None:
            raise RoomError("That solution is not a passing attempt in this room.")
        push_id = _new_id(conn.execute(pushes.insert().values(
            room_id=room.id, kind="solution", item_id=exercise_id, code=row.code, pushed_at=now,
        )))
    return Push(int(push_id), "solution", exercise_id, row.code, now)


def recent_pushes(conn: Connection, room_id: int, after_id: int = 0,
                  limit: int = 10) -> list[Push]:
    rows = conn.execute(
        select(pushes).where(pushes.c.room_id == room_id, pushes.c.id > after_id)
        .order_by(pushes.c.id.desc()).limit(limit)
    ).all()
    return [Push(r.id, r.kind, r.item_id, r.code, r.pushed_at) for r in rows]


def close_room(store: Store, room: Room, now: float | None = None) -> None:
    """The facilitator closes the room: nobody joins, nothing new is recorded; the facilitator
    and every participant still read what is there (the dashboard, the export, their work)."""
    now = time.time() if now is None else now
    with store.write() as conn:
        conn.execute(rooms.update().where(rooms.c.id == room.id, rooms.c.closed_at.is_(None))
                     .values(closed_at=now))
        bump(conn, room.id)


def remove_participant(store: Store, room: Room, participant_id: int,
                       now: float | None = None) -> bool:
    """The facilitator removes someone (a stray join, a duplicate): their link stops working and
    their records go. False if they were not in this room."""
    now = time.time() if now is None else now
    with store.write() as conn:
        live_room(conn, room.id, now)
        gone = conn.execute(participants.delete().where(
            participants.c.id == participant_id, participants.c.room_id == room.id)).rowcount
        if gone:
            conn.execute(rooms.update().where(rooms.c.id == room.id).values(
                stored_bytes=func.coalesce(select(func.sum(participants.c.stored_bytes))
                                           .where(participants.c.room_id == room.id)
                                           .scalar_subquery(), 0)))
            bump(conn, room.id)
    return bool(gone)


PURGE_EVERY_S = 600.0


def purge_expired(store: Store, now: float | None = None, force: bool = False) -> int:
    """Delete the rooms past their expiry time, with everything in them (at most one sweep per
    PURGE_EVERY_S per process unless forced); how many rooms went."""
    now = time.time() if now is None else now
    if not force and now - store.purged_at < PURGE_EVERY_S:
        return 0
    store.purged_at = now
    with store.write() as conn:
        # Children first: SQLite cascades only with foreign_keys on; this holds either way.
        expired = select(rooms.c.id).where(rooms.c.expires_at.is_not(None),
                                           rooms.c.expires_at <= now)
        people = select(participants.c.id).where(participants.c.room_id.in_(expired))
        for table in (attempts, drafts, reveals):
            conn.execute(table.delete().where(table.c.participant_id.in_(people)))
        conn.execute(participants.delete().where(participants.c.room_id.in_(expired)))
        conn.execute(pushes.delete().where(pushes.c.room_id.in_(expired)))
        return int(conn.execute(rooms.delete().where(rooms.c.id.in_(expired))).rowcount)


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT added."""
    key = result.inserted_primary_key
    if key is None:  # never for a single-row INSERT into a table with a primary key
        raise RuntimeError("the database returned no id for the new row")
    return int(key[0])
