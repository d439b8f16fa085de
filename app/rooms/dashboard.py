"""The facilitator's live view of a room: participants x exercises, who is stuck or idle, the
common failures, and one participant's work in detail.

Four aggregate queries per refresh, whatever the number of attempts: the participants, the
attempts grouped by (participant, exercise), the failed attempts grouped by error, the solutions
seen. The page polls only the room's version (rooms.room_version) and calls this when it moved;
bench/rooms_load.py measures it under 50 participants.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from app.rooms.rooms import Room, live_room
from app.rooms.schema import attempts, drafts, participants, reveals
from app.rooms.store import Store

TOP_ERRORS = 3
STUCK_FAILURES = 3  # failed attempts at one exercise not yet passed
STUCK_AFTER_S = 10 * 60  # active, but no exercise passed for this long
IDLE_AFTER_S = 5 * 60  # nothing saved, checked or revealed for this long
# Numbers (with a sign, decimals, exponent) in a check case's name: checks draw random inputs
# and name them, so "nansum of [0.31, nan]" and "nansum of [2.7, nan]" are one case.
_VALUES = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Cell:
    attempts: int = 0
    passed: bool = False
    last_at: float | None = None
    solution_seen: bool = False
    first_passed_at: float | None = None

    @property
    def state(self) -> str:
        if self.passed:
            return "passed"
        return "failed" if self.attempts else "not started"

    @property
    def failures(self) -> int:
        """Failed attempts so far (all of them when not passed)."""
        return 0 if self.passed else self.attempts


@dataclass(frozen=True)
class Row:
    participant_id: int
    name: str
    last_seen_at: float
    cells: dict[str, Cell]  # exercise id -> cell
    joined_at: float = 0.0
    stuck: bool = False
    idle: bool = False

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cells.values())

    @property
    def last_progress_at(self) -> float:
        """When they last passed an exercise (else joined): "no progress for M minutes"."""
        return max([self.joined_at, *(c.first_passed_at or 0.0 for c in self.cells.values())])


@dataclass
class Dashboard:
    room: Room
    exercises: list[str]
    rows: list[Row]
    errors: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # most common first
    taken_at: float = 0.0

    def passed_count(self, exercise_id: str) -> int:
        return sum(r.cells.get(exercise_id, Cell()).passed for r in self.rows)

    def sorted_rows(self, order: str) -> list[Row]:
        return sorted(self.rows, key=SORTS.get(order, SORTS["joined"]))


# Sort keys (ascending): the first rows are the ones to look at.
SORTS: dict[str, Callable[[Row], tuple]] = {
    "stuck": lambda r: (not r.stuck, r.idle, r.passed, r.joined_at, r.participant_id),
    "idle": lambda r: (not r.idle, -(r.last_seen_at), r.participant_id),
    "progress": lambda r: (r.passed, r.last_progress_at, r.participant_id),
    "name": lambda r: (r.name.casefold(), r.participant_id),
    "joined": lambda r: (r.joined_at, r.participant_id),
}


def error_label(error_type: str | None, failed_case: str | None) -> str:
    """How a failed attempt is grouped: its exception type, else the check case it failed with
    the case's values masked ('#')."""
    if error_type:
        return error_type
    return f"case: {case_without_values(failed_case)}" if failed_case else "failed"


def case_without_values(case_name: str) -> str:
    return _VALUES.sub("#", case_name)


def flags(row: Row, exercises: list[str], now: float) -> tuple[bool, bool]:
    """(stuck, idle) for one participant; nobody is flagged once they passed everything."""
    done = bool(exercises) and all(row.cells.get(e, Cell()).passed for e in exercises)
    if done:
        return False, False
    idle = now - row.last_seen_at >= IDLE_AFTER_S
    stuck = not idle and (
        any(row.cells.get(e, Cell()).failures >= STUCK_FAILURES for e in exercises)
        or now - row.last_progress_at >= STUCK_AFTER_S)
    return stuck, idle


def dashboard(store: Store, room: Room, now: float | None = None) -> Dashboard:
    now = time.time() if now is None else now
    exercises = room.exercise_ids()
    in_room = participants.c.room_id == room.id
    with store.read() as conn:
        room = live_room(conn, room.id, now)  # its state and version now, in this snapshot
        people = conn.execute(
            select(participants.c.id, participants.c.name, participants.c.last_seen_at,
                   participants.c.joined_at)
            .where(in_room).order_by(participants.c.joined_at, participants.c.id)
        ).all()
        passed_at = case((attempts.c.passed.is_(True), attempts.c.submitted_at), else_=None)
        grouped = conn.execute(
            select(attempts.c.participant_id, attempts.c.exercise_id,
                   func.count().label("n"),
                   func.max(case((attempts.c.passed.is_(True), 1), else_=0)).label("passed"),
                   func.max(attempts.c.submitted_at).label("last_at"),
                   func.min(passed_at).label("first_passed_at"))
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
            int(g.n), bool(g.passed), g.last_at, (g.participant_id, g.exercise_id) in solution_seen,
            g.first_passed_at)
    for participant_id, exercise_id in solution_seen - {
            (p, e) for p, by in cells.items() for e in by}:
        cells[participant_id][exercise_id] = Cell(solution_seen=True)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in failures:
        counts[f.exercise_id][error_label(f.error_type, f.failed_case)] += int(f.n)
    rows = []
    for p in people:
        row = Row(p.id, p.name, p.last_seen_at, dict(cells.get(p.id, {})), p.joined_at)
        if not room.read_only(now):  # flags ask for action: none once the room is over
            stuck, idle = flags(row, exercises, now)
            row = Row(row.participant_id, row.name, row.last_seen_at, row.cells, row.joined_at,
                      stuck, idle)
        rows.append(row)
    return Dashboard(
        room=room,
        exercises=exercises,
        rows=rows,
        errors={e: c.most_common(TOP_ERRORS) for e, c in counts.items()},
        taken_at=now,
    )


@dataclass(frozen=True)
class AttemptLine:
    exercise_id: str
    submitted_at: float
    passed: bool
    status: str
    failed_case: str | None
    error_type: str | None
    message: str


@dataclass(frozen=True)
class Detail:
    """One participant's work, for the facilitator: current code, attempts, hints, solutions."""
    participant_id: int
    name: str
    joined_at: float
    last_seen_at: float
    code: dict[str, tuple[str, float]]  # item id -> (current code, saved at)
    attempts: list[AttemptLine]  # newest first
    hints: dict[str, int]  # exercise id -> hints shown
    solutions_seen: dict[str, float]  # exercise id -> when


DETAIL_ATTEMPTS = 50


def participant_detail(store: Store, room: Room, participant_id: int) -> Detail | None:
    """None if the participant is not (or no longer) in this room."""
    with store.read() as conn:
        person = conn.execute(select(participants).where(
            participants.c.id == participant_id, participants.c.room_id == room.id)).first()
        if person is None:
            return None
        code = conn.execute(select(drafts.c.item_id, drafts.c.code, drafts.c.updated_at)
                            .where(drafts.c.participant_id == participant_id)).all()
        tried = conn.execute(
            select(attempts.c.exercise_id, attempts.c.submitted_at, attempts.c.passed,
                   attempts.c.status, attempts.c.failed_case, attempts.c.error_type,
                   attempts.c.message)
            .where(attempts.c.participant_id == participant_id)
            .order_by(attempts.c.id.desc()).limit(DETAIL_ATTEMPTS)).all()
        shown = conn.execute(select(reveals).where(reveals.c.participant_id == participant_id)
                             ).all()
    return Detail(
        participant_id, person.name, person.joined_at, person.last_seen_at,
        {r.item_id: (r.code, r.updated_at) for r in code},
        [AttemptLine(r.exercise_id, r.submitted_at, bool(r.passed), r.status, r.failed_case,
                     r.error_type, r.message) for r in tried],
        {r.exercise_id: int(r.hints_shown) for r in shown if r.hints_shown},
        {r.exercise_id: r.solution_shown_at for r in shown if r.solution_shown_at is not None},
    )
