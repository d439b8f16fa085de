"""The facilitator's live view of a room: participants x exercises, and the common errors.

Three aggregate queries per refresh, whatever the number of attempts: the participants, the
attempts grouped by (participant, exercise), the failed attempts grouped by error. The
dashboard polls this every few seconds; bench/rooms_load.py measures it under 50 participants.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from app.rooms.rooms import Room
from app.rooms.schema import attempts, participants, reveals
from app.rooms.store import Store

TOP_ERRORS = 3


@dataclass(frozen=True)
class Cell:
    attempts: int = 0
    passed: bool = False
    last_at: float | None = None
    solution_seen: bool = False

    @property
    def state(self) -> str:
        if self.passed:
            return "passed"
        return "failed" if self.attempts else "not started"


@dataclass(frozen=True)
class Row:
    participant_id: int
    name: str
    last_seen_at: float
    cells: dict[str, Cell]  # exercise id -> cell


@dataclass
class Dashboard:
    room: Room
    exercises: list[str]
    rows: list[Row]
    errors: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # most common first
    taken_at: float = 0.0

    def passed_count(self, exercise_id: str) -> int:
        return sum(r.cells.get(exercise_id, Cell()).passed for r in self.rows)


def error_label(error_type: str | None, failed_case: str | None) -> str:
    """How a failed attempt is grouped: its exception type, else the check case it failed."""
    if error_type:
        return error_type
    return f"case: {failed_case}" if failed_case else "failed"


def dashboard(store: Store, room: Room, now: float | None = None) -> Dashboard:
    now = time.time() if now is None else now
    exercises = room.exercise_ids()
    in_room = participants.c.room_id == room.id
    with store.read() as conn:
        people = conn.execute(
            select(participants.c.id, participants.c.name, participants.c.last_seen_at)
            .where(in_room).order_by(participants.c.joined_at, participants.c.id)
        ).all()
        grouped = conn.execute(
            select(attempts.c.participant_id, attempts.c.exercise_id,
                   func.count().label("n"),
                   func.max(case((attempts.c.passed.is_(True), 1), else_=0)).label("passed"),
                   func.max(attempts.c.submitted_at).label("last_at"))
            .select_from(attempts.join(participants)).where(in_room)
            .group_by(attempts.c.participant_id, attempts.c.exercise_id)
        ).all()
        failures = conn.execute(
            select(attempts.c.exercise_id, attempts.c.error_type, attempts.c.failed_case,
                   func.count().label("n"))
            .select_from(attempts.join(participants))
            .where(in_room, attempts.c.passed.is_(False))
            .group_by(attempts.c.exercise_id, attempts.c.error_type, attempts.c.failed_case)
        ).all()
        seen = conn.execute(
            select(reveals.c.participant_id, reveals.c.exercise_id)
            .select_from(reveals.join(participants))
            .where(in_room, reveals.c.solution_shown_at.is_not(None))
        ).all()
    solution_seen = {(r.participant_id, r.exercise_id) for r in seen}
    cells: dict[int, dict[str, Cell]] = defaultdict(dict)
    for g in grouped:
        cells[g.participant_id][g.exercise_id] = Cell(
            int(g.n), bool(g.passed), g.last_at, (g.participant_id, g.exercise_id) in solution_seen)
    for participant_id, exercise_id in solution_seen - {
            (p, e) for p, by in cells.items() for e in by}:
        cells[participant_id][exercise_id] = Cell(solution_seen=True)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in failures:
        counts[f.exercise_id][error_label(f.error_type, f.failed_case)] += int(f.n)
    return Dashboard(
        room=room,
        exercises=exercises,
        rows=[Row(p.id, p.name, p.last_seen_at, dict(cells.get(p.id, {}))) for p in people],
        errors={e: c.most_common(TOP_ERRORS) for e, c in counts.items()},
        taken_at=now,
    )
