"""A room's pulse: what a participant's page polls every few seconds to notice, cheaply, that
the facilitator pushed something, or that the room ended or closed. One indexed query; the page
redraws itself only when the pulse changed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.rooms.schema import pushes, rooms
from app.rooms.store import Store


@dataclass(frozen=True)
class Pulse:
    latest_push: int  # the newest push's id (0: none yet)
    ends_at: float | None
    closed: bool
    expires_at: float | None

    def ended(self, now: float) -> bool:
        return self.closed or any(t is not None and now >= t
                                  for t in (self.ends_at, self.expires_at))


def pulse(store: Store, room_id: int) -> Pulse | None:
    """None when the room is gone altogether."""
    newest = (select(func.coalesce(func.max(pushes.c.id), 0))
              .where(pushes.c.room_id == room_id).scalar_subquery())
    with store.read() as conn:
        row = conn.execute(select(rooms.c.ends_at, rooms.c.expires_at, rooms.c.closed_at,
                                  rooms.c.deleted_at, newest.label("latest"))
                           .where(rooms.c.id == room_id)).first()
    if row is None:
        return None
    closed = row.closed_at is not None or row.deleted_at is not None
    return Pulse(int(row.latest), row.ends_at, closed, row.expires_at)
