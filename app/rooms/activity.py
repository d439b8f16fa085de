"""How many rooms are open now and how many people are in them (for the metrics endpoint)."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from app.rooms.schema import participants, rooms
from app.rooms.store import Store


def open_rooms_and_people(store: Store, now: float) -> tuple[int, int]:
    """Rooms neither deleted, closed, expired nor past their end time, and their participants."""
    live = and_(rooms.c.deleted_at.is_(None), rooms.c.closed_at.is_(None),
                or_(rooms.c.expires_at.is_(None), rooms.c.expires_at > now),
                or_(rooms.c.ends_at.is_(None), rooms.c.ends_at > now))
    with store.read() as conn:
        open_rooms = conn.execute(select(func.count()).select_from(rooms).where(live)).scalar_one()
        people = conn.execute(
            select(func.count()).select_from(participants.join(rooms)).where(live)).scalar_one()
    return int(open_rooms), int(people)
