"""The facilitator's live grid: participants x exercises, redrawn every few seconds by itself."""

from __future__ import annotations

import time

import streamlit as st

from app.rooms.catalogue import Catalogue, Item
from app.rooms.dashboard import Cell, Dashboard, dashboard
from app.rooms.rooms import Room
from app.rooms.store import Store

REFRESH_S = 2.0


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def cell_text(cell: Cell | None) -> str:
    if cell is None or (not cell.attempts and not cell.solution_seen):
        return "-"
    if cell.passed:
        text = f"✓ passed ({cell.attempts})"
    elif cell.attempts:
        text = f"✗ {cell.attempts} failed"
    else:
        text = "-"
    return text + (" · saw solution" if cell.solution_seen else "")


def grid_rows(view: Dashboard, titles: dict[str, str], now: float) -> list[dict[str, str]]:
    """One dict per participant: plain strings only (st.dataframe shows them as text)."""
    rows = []
    for row in view.rows:
        line = {"participant": row.name, "last activity": ago(now - row.last_seen_at)}
        for exercise_id in view.exercises:
            line[titles[exercise_id]] = cell_text(row.cells.get(exercise_id))
        rows.append(line)
    return rows


def error_rows(view: Dashboard, titles: dict[str, str]) -> list[dict[str, str]]:
    return [{"exercise": titles[e], "most common failures": ", ".join(
        f"{label} ×{count}" for label, count in view.errors.get(e, []))}
        for e in view.exercises if view.errors.get(e)]


@st.fragment(run_every=REFRESH_S)
def live_dashboard(db: Store, room: Room, catalogue: Catalogue) -> None:
    started = time.perf_counter()
    view = dashboard(db, room)
    titles = {e: catalogue.title(Item("exercise", e)) for e in view.exercises}
    people = len(view.rows)
    passed = ", ".join(f"{titles[e]}: {view.passed_count(e)}/{people}" for e in view.exercises)
    st.caption(f"{people} participant(s) · passed {passed or '-'} · updated every "
               f"{REFRESH_S:g} s ({(time.perf_counter() - started) * 1000:.0f} ms)")
    if not view.rows:
        st.info("Nobody has joined yet. Share the join link.")
        return
    st.dataframe(grid_rows(view, titles, time.time()), hide_index=True, key=None)
    errors = error_rows(view, titles)
    if errors:
        st.caption("Most common failures (exception type, or the check case that failed)")
        st.dataframe(errors, hide_index=True)
    st.caption("✓ passed (attempts) · ✗ failed attempts · - not started")
