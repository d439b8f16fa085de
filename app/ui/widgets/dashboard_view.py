"""The facilitator's live dashboard: the grid (sorted, flagged), the common failures, one
participant's work, the export, and the passing solutions, kept current by themselves.

Each open dashboard polls one number every REFRESH_S (the room's version) and rebuilds only
when it moved or when the clock crossed a TIME_BUCKET_S step (for "active 3 min" and the idle
flag); otherwise it shows the HTML it built last time. Server CPU per open dashboard is then
one indexed read per poll, whatever the size of the room.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app.rooms import export, rooms
from app.rooms.catalogue import Catalogue, Item
from app.rooms.dashboard import Dashboard, Detail, dashboard, participant_detail
from app.rooms.inputs import RoomError
from app.rooms.rooms import Room
from app.rooms.store import Store
from app.ui import plain
from app.ui.widgets.dashboard_grid import (
    ago,
    attempts_html,
    clock,
    error_lines,
    grid_html,
    room_status,
)

# How often an open dashboard looks for news: each look is a fragment rerun (~8 ms of the
# server's CPU even when nothing changed, a rebuild ~20-30 ms for 100 people), so a minute of an
# open dashboard costs 12 looks at the grid and 6 at the solutions (bench/server_capacity.py).
REFRESH_S = 5.0
SOLUTIONS_REFRESH_S = 10.0
TIME_BUCKET_S = 30.0
SORTS = {"stuck": "Stuck first", "idle": "Idle first", "progress": "Least progress",
         "name": "Name", "joined": "Joined"}
_BUILT = "room-dashboard::"  # session key: the last build, per room
_SORT = "room-sort"
_PICKED = "room-participant"


@dataclass(frozen=True)
class Built:
    key: tuple[Any, ...]
    view: Dashboard
    titles: dict[str, str]
    grid: str


def timezone() -> str | None:
    return getattr(st.context, "timezone", None)


def _built(db: Store, room: Room, cat: Catalogue, order: str) -> Built:
    """The dashboard for the room's current version (rebuilt only when something changed)."""
    version = rooms.room_version(db, room.id)
    now = time.time()
    key = (version, order, int(now // TIME_BUCKET_S), timezone())
    cached = st.session_state.get(_BUILT + room.code)
    if isinstance(cached, Built) and cached.key == key:
        return cached
    view = dashboard(db, room, now)
    titles = {e: cat.title(Item("exercise", e)) for e in view.exercises}
    built = Built(key, view, titles, grid_html(view, titles, order, now, timezone()))
    st.session_state[_BUILT + room.code] = built
    return built


@st.fragment(run_every=REFRESH_S)
def live_dashboard(db: Store, room: Room, cat: Catalogue) -> None:
    try:
        _live(db, room, cat)
    except RoomError as exc:  # the database busy, the room expired meanwhile
        st.error(str(exc))


def _live(db: Store, room: Room, cat: Catalogue) -> None:
    order = st.segmented_control("Sort", list(SORTS), format_func=SORTS.__getitem__,
                                 default="stuck", key=_SORT, label_visibility="collapsed")
    built = _built(db, room, cat, order or "stuck")
    view = built.view
    people = len(view.rows)
    st.caption(f"**{room_status(view.room, view.taken_at, timezone())}** · {people} "
               f"participant(s) · updated {clock(view.taken_at, timezone())}")
    if not view.rows:
        st.info("Nobody has joined yet. Share the join link.")
        return
    st.html(built.grid)
    st.caption("✓ passed (attempts, when more than one) · ✗ failed attempts · · not started · "
               "S saw the solution · STUCK: 3 failed attempts at one exercise, or nothing "
               "passed for 10 min · IDLE: no activity for 5 min")
    errors = error_lines(view, built.titles)
    if errors:
        st.markdown("**Most common failures** (exception type, or the check case that failed; "
                    "its values shown as #)")
        for title, line in errors:
            st.caption(f"{plain.text(title)}: {plain.text(line)}")
    _participant(db, room, view, built.titles)


def _participant(db: Store, room: Room, view: Dashboard, titles: dict[str, str]) -> None:
    names = {r.participant_id: r for r in view.rows}
    picked = st.selectbox(
        "Open a participant's work", [None, *names], key=_PICKED,
        format_func=lambda p: "Choose a participant" if p is None else
        f"{names[p].name} (joined {clock(names[p].joined_at, timezone())})")
    if picked is None or picked not in names:
        return
    detail = participant_detail(db, room, picked)
    if detail is None:
        st.info("This participant is no longer in the room.")
        return
    show_detail(db, detail, view, room, titles)


def show_detail(db: Store, detail: Detail, view: Dashboard, room: Room,
                titles: dict[str, str]) -> None:
    with st.container(border=True):
        st.markdown(f"**{plain.text(detail.name)}** · joined "
                    f"{clock(detail.joined_at, timezone())} · active "
                    f"{ago(time.time() - detail.last_seen_at)} ago".replace("now ago", "now"))
        for item_id in [*view.exercises, *(i for i in detail.code if i not in titles)]:
            code = detail.code.get(item_id)
            hints = detail.hints.get(item_id, 0)
            seen = detail.solutions_seen.get(item_id)
            tried = [a for a in detail.attempts if a.exercise_id == item_id]
            if code is None and not tried and not hints and seen is None:
                continue
            notes = [f"{len(tried)} attempt(s)" if tried else "no attempt",
                     f"{hints} hint(s) shown" if hints else "no hint"]
            if seen is not None:
                notes.append(f"saw the solution at {clock(seen, timezone())}")
            st.markdown(f"**{plain.text(titles.get(item_id, item_id))}** · {' · '.join(notes)}")
            if code is not None:
                st.caption(f"Current code (saved {clock(code[1], timezone())})")
                st.code(code[0], language="python")
            if tried:
                st.html(attempts_html(tried, timezone()))
        if not room.read_only(time.time()):
            _remove(db, detail, room)


def _remove(db: Store, detail: Detail, room: Room) -> None:
    confirm = st.checkbox(f"Remove {plain.text(detail.name)} from the room (their link stops "
                          "working, their records go)",
                          key=f"remove-confirm::{detail.participant_id}")
    if (confirm and st.button("Remove", key=f"remove::{detail.participant_id}")
            and rooms.remove_participant(db, room, detail.participant_id)):
        st.rerun(scope="fragment")


def export_buttons(db: Store, room: Room, cat: Catalogue) -> None:
    """CSV and JSON of the room's results, built when clicked (not on every redraw)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
    base = f"room-{room.code}-{stamp}"

    def rows() -> tuple[Dashboard, list[dict[str, Any]]]:
        view = dashboard(db, room)
        return view, export.records(db, view, cat)

    csv_col, json_col, _ = st.columns([1, 1, 3])
    csv_col.download_button("Export CSV", lambda: export.as_csv(rows()[1]), f"{base}.csv",
                            "text/csv", key="export-csv", on_click="ignore",
                            icon=":material/download:")
    json_col.download_button("Export JSON", lambda: export.as_json(*rows()), f"{base}.json",
                             "application/json", key="export-json", on_click="ignore",
                             icon=":material/download:")


@st.fragment(run_every=SOLUTIONS_REFRESH_S)
def solution_panel(db: Store, room: Room, cat: Catalogue) -> None:
    """The passing solutions of an exercise, as current as the grid."""
    exercise_ids = room.exercise_ids()
    if not exercise_ids:
        st.caption("The room has no exercises.")
        return
    exercise_id = st.selectbox("Exercise", exercise_ids, key="solution-exercise",
                               format_func=lambda e: cat.title(Item("exercise", e)))
    try:
        key = (rooms.room_version(db, room.id), exercise_id)
        cached = st.session_state.get("room-solutions")
        if not cached or cached[0] != key:
            cached = (key, rooms.passing_solutions(db, room, exercise_id))
            st.session_state["room-solutions"] = cached
    except RoomError as exc:
        st.error(str(exc))
        return
    found = cached[1]
    if not found:
        st.caption("Nobody has passed it yet.")
        return
    index = st.selectbox(f"Passing solutions ({len(found)}, anonymous, newest first)",
                         range(len(found)), format_func=lambda i: f"Solution {i + 1}",
                         key="solution-index")
    index = min(index or 0, len(found) - 1)
    st.code(found[index].code, language="python")
    if st.button("Show it to everyone", key="solution-show"):
        try:
            rooms.show_solution(db, room, exercise_id, found[index].attempt_id)
            st.toast("Shown to the room, without a name.")
        except RoomError as exc:
            st.error(str(exc))
