"""A room's results for the record: one row per participant and exercise, as CSV (for a
spreadsheet) and as JSON (for a program). Names and case texts are what people and runs typed, so
every CSV cell that a spreadsheet would read as a formula is neutralised (export_cells)."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

from app.rooms import export_cells
from app.rooms.catalogue import Catalogue, Item
from app.rooms.dashboard import Dashboard
from app.rooms.schema import attempts, participants, reveals
from app.rooms.store import Store

COLUMNS = ("participant", "joined", "exercise", "title", "state", "attempts", "first_passed",
           "last_attempt", "hints_shown", "solution_seen", "last_failure")
def _when(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(timespec="seconds")


def _extras(store: Store, view: Dashboard) -> tuple[dict, dict]:
    """Hints shown and the last failure, per (participant, exercise)."""
    in_room = participants.c.room_id == view.room.id
    with store.read() as conn:
        hints = {(r.participant_id, r.exercise_id): int(r.hints_shown) for r in conn.execute(
            reveals.select().with_only_columns(reveals.c.participant_id, reveals.c.exercise_id,
                                               reveals.c.hints_shown)
            .join_from(reveals, participants).where(in_room))}
        failures = conn.execute(
            attempts.select().with_only_columns(attempts.c.participant_id,
                                                attempts.c.exercise_id, attempts.c.failed_case,
                                                attempts.c.error_type)
            .join_from(attempts, participants)
            .where(in_room, attempts.c.passed.is_(False)).order_by(attempts.c.id)).all()
    last = {(r.participant_id, r.exercise_id): r.error_type or r.failed_case or ""
            for r in failures}  # the newest wins
    return hints, last


def records(store: Store, view: Dashboard, cat: Catalogue) -> list[dict[str, Any]]:
    hints, last = _extras(store, view)
    out = []
    for row in view.rows:
        for exercise_id in view.exercises:
            cell = row.cells.get(exercise_id)
            key = (row.participant_id, exercise_id)
            out.append({
                "participant": row.name, "joined": _when(row.joined_at),
                "exercise": exercise_id, "title": cat.title(Item("exercise", exercise_id)),
                "state": cell.state if cell else "not started",
                "attempts": cell.attempts if cell else 0,
                "first_passed": _when(cell.first_passed_at if cell else None),
                "last_attempt": _when(cell.last_at if cell else None),
                "hints_shown": hints.get(key, 0),
                "solution_seen": bool(cell and cell.solution_seen),
                "last_failure": None if cell and cell.passed else last.get(key),
            })
    return out


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for line in rows:
        writer.writerow(export_cells.row([line[c] for c in COLUMNS]))
    return buffer.getvalue()


def as_json(view: Dashboard, rows: list[dict[str, Any]]) -> str:
    room = view.room
    return json.dumps({
        "room": {"name": room.name, "code": room.code, "created": _when(room.created_at),
                 "ends": _when(room.ends_at), "closed": _when(room.closed_at),
                 "exported": _when(view.taken_at)},
        "exercises": view.exercises,
        "results": rows,
    }, ensure_ascii=False, indent=1)
