"""The facilitator's side of a room: create it, open it with the secret token, push items to it,
show an anonymised passing solution, close it."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from app.config import Settings
from app.rooms import inputs
from app.rooms.catalogue import Catalogue, Item
from app.rooms.inputs import RoomError
from app.rooms.schema import attempts, participants, pushes, rooms
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

    def ended(self, now: float) -> bool:
        return self.ends_at is not None and now >= self.ends_at

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
                row.ends_at, row.expires_at)  # type: ignore[attr-defined]


def live_room(conn: Connection, room_id: int, now: float) -> Room:
    """The room, or the RoomError a person should see: closed or expired."""
    row = conn.execute(select(rooms).where(rooms.c.id == room_id)).first()
    return _check_live(row, now)


FACILITATOR_LINK_REFUSED = ("This facilitator link does not open a room: check that it was "
                            "copied whole, or ask the person who created the room.")


def _check_live(row: object | None, now: float) -> Room:
    if row is None:
        raise RoomError("There is no such room: it may have been closed.")
    if row.deleted_at is not None:  # type: ignore[attr-defined]
        raise RoomError("This room was closed by its facilitator; its links no longer open it.")
    if row.expires_at is not None and now >= row.expires_at:  # type: ignore[attr-defined]
        raise RoomError("This room has expired (rooms on this server last "
                        f"{(row.expires_at - row.created_at) / HOUR_S:g} hours).")  # type: ignore[attr-defined]
    return _room(row)


def create_room(store: Store, settings: Settings, catalogue: Catalogue, *, name: str,
                items: Sequence[Item], ends_at: float | None, client_id: str,
                now: float | None = None) -> tuple[Room, str]:
    """A new room and its facilitator token (shown once; only its hash is kept)."""
    now = time.time() if now is None else now
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
    ttl = settings.effective_room_ttl_hours
    expires_at = now + ttl * HOUR_S if ttl else None
    if expires_at is not None and ends_at is not None:
        ends_at = min(ends_at, expires_at)
    creator = inputs.token_hash(f"client:{client_id}")
    token = inputs.new_token()
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
        room_id = conn.execute(rooms.insert().values(
            code=code, facilitator_hash=inputs.token_hash(token), name=clean_name,
            items=json.dumps([{"kind": i.kind, "id": i.id} for i in chosen]),
            created_by=creator, created_at=now, ends_at=ends_at, expires_at=expires_at,
        )).inserted_primary_key[0]
        room = live_room(conn, int(room_id), now)
    return room, token


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
        live_room(conn, room.id, now)
        push_id = conn.execute(pushes.insert().values(
            room_id=room.id, kind=item.kind, item_id=item.id, pushed_at=now,
        )).inserted_primary_key[0]
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
        live_room(conn, room.id, now)
        row = conn.execute(
            select(attempts.c.code).select_from(attempts.join(participants)).where(
                attempts.c.id == attempt_id, attempts.c.exercise_id == exercise_id,
                attempts.c.passed.is_(True), participants.c.room_id == room.id)
        ).first()
        if row is None:
            raise RoomError("That solution is not a passing attempt in this room.")
        push_id = conn.execute(pushes.insert().values(
            room_id=room.id, kind="solution", item_id=exercise_id, code=row.code, pushed_at=now,
        )).inserted_primary_key[0]
    return Push(int(push_id), "solution", exercise_id, row.code, now)


def recent_pushes(conn: Connection, room_id: int, after_id: int = 0,
                  limit: int = 10) -> list[Push]:
    rows = conn.execute(
        select(pushes).where(pushes.c.room_id == room_id, pushes.c.id > after_id)
        .order_by(pushes.c.id.desc()).limit(limit)
    ).all()
    return [Push(r.id, r.kind, r.item_id, r.code, r.pushed_at) for r in rows]


def close_room(store: Store, room: Room, now: float | None = None) -> None:
    """The facilitator closes the room: its links stop working; the data stays for the record."""
    now = time.time() if now is None else now
    with store.write() as conn:
        conn.execute(rooms.update().where(rooms.c.id == room.id).values(deleted_at=now))
