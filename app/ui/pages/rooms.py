"""Rooms: create one (facilitator), join one (participant), and each side's view. Which view
the page shows comes from the link: ?room=&key= (facilitator), ?join= (join), ?p= (participant)."""

from __future__ import annotations

import time

import streamlit as st

from app.config import settings
from app.rooms import learners, rooms
from app.rooms.catalogue import Catalogue, Item, catalogue
from app.rooms.inputs import NAME_CHARS, ROOM_NAME_CHARS, RoomError
from app.rooms.learners import Learner
from app.rooms.pulse import pulse
from app.rooms.rooms import Room
from app.rooms.store import Store, StoreBusy
from app.ui import jax_version, learner, plain, state
from app.ui.learner import JOIN_PARAM, KEY_PARAM, ROOM_PARAM, ROOMS_PATH, TOKEN_PARAM
from app.ui.marks import LEGEND, marked
from app.ui.run import current_client
from app.ui.widgets.chrome import page_header
from app.ui.widgets.dashboard_view import export_buttons, live_dashboard, solution_panel
from app.ui.widgets.exercise_area import exercise_area
from app.ui.widgets.room_snippet import room_snippet_area

INTRO = (
    "An onboarding session: a facilitator picks exercises and snippets, shares one link with "
    "the room, and watches everyone's progress live. Each participant's code, attempts and "
    "progress are saved on the server under their own private link."
)
PICK = "room-pick"  # the participant's item picker (a widget key)
_PICKED = "room-picked"  # the item it shows: kept apart from the widget (state.pinned)
_PULSE = "room-pulse"  # what the last tick of room_pulse saw
PULSE_S = 4.0  # how often a participant's page looks for pushes and the end of the room


def _client_id() -> str:
    """Who creates rooms and joins them, for the per-client limits (app/client_address.py)."""
    return current_client() or "local"


def _item_label(cat: Catalogue, item: Item) -> str:
    if item.kind == "exercise":
        exercise = cat.exercise(item.id)
        section = exercise.section if exercise else ""
        return f"{section} · {cat.title(item)}"
    snippet = cat.snippet(item.id)
    return f"{snippet.section if snippet else ''} · {cat.title(item)}"


def render_rooms() -> None:
    db = learner.store()
    if db is None:
        page_header("Rooms")
        return
    cat = catalogue()
    try:
        if learner.param(ROOM_PARAM) is not None or learner.param(KEY_PARAM) is not None:
            _facilitator_link(db, cat)
        elif (who := _participant(db)) is not None:
            participant_view(db, cat, who)
        elif learner.param(JOIN_PARAM) is not None:
            join_view(db, rooms.room_by_code(db, learner.param(JOIN_PARAM)))
        else:
            create_view(db, cat)
    except RoomError as exc:  # a bad link, a limit, the database busy: one sentence
        page_header("Rooms")
        st.error(str(exc))


def _participant(db: Store) -> Learner | None:
    """The room participant the link names; None without a token, or for a token of someone
    learning alone (it stays in every link of their session: they may still create or join a
    room, which gives them a participant's token)."""
    token = learner.param(TOKEN_PARAM)
    if token is None:
        return None
    who = learners.learner(db, token)
    return who if who.room is not None else None


# --- facilitator ---------------------------------------------------------------------------

_CREATED = "room-created"  # {room code: recovery code}: shown once, in the creator's session


def _facilitator_link(db: Store, cat: Catalogue) -> None:
    """?room=&key=: the dashboard; a link without its key, or a wrong one: the way back."""
    code, key = learner.param(ROOM_PARAM), learner.param(KEY_PARAM)
    if key is None:
        page_header("Rooms")
        st.warning("This link has the room's code but not its facilitator key.")
        recovery_form(db, code)
        return
    try:
        room = rooms.facilitated_room(db, code, key)
    except StoreBusy:
        raise
    except RoomError as exc:
        page_header("Rooms")
        st.error(str(exc))
        recovery_form(db, code)
        return
    facilitator_view(db, cat, room, key)


def recovery_form(db: Store, code: str | None) -> None:
    st.subheader("Open the dashboard with the recovery code", divider="gray")
    st.caption("The recovery code was shown once, when the room was created. Using it gives a "
               "new facilitator link and a new recovery code; the old ones stop working.")
    with st.form("recover-room"):
        typed_code = st.text_input("Room code (in the join link, after join=)", value=code or "",
                                   max_chars=32)
        recovery = st.text_input("Recovery code", max_chars=64, type="password",
                                 placeholder="XXXXX-XXXXX-XXXXX-XXXXX")
        submitted = st.form_submit_button("Open the dashboard", type="primary")
    if submitted:
        try:
            created = rooms.recover(db, typed_code.strip(), recovery)
        except RoomError as exc:
            st.error(str(exc))
            return
        _opened(created)


def _opened(created: rooms.Created) -> None:
    """Go to the dashboard of a room just created or recovered, showing its secrets once."""
    st.session_state[_CREATED] = {created.room.code: created.recovery_code}
    st.query_params.clear()
    st.query_params[ROOM_PARAM] = created.room.code
    st.query_params[KEY_PARAM] = created.token
    st.rerun()


def create_view(db: Store, cat: Catalogue) -> None:
    page_header("Rooms", INTRO)
    st.subheader("Create a room", divider="gray")
    with st.form("create-room"):
        name = st.text_input("Room name", max_chars=ROOM_NAME_CHARS,
                             placeholder="JAX onboarding, Tuesday")
        everything = cat.all_items()
        exercises = st.multiselect(
            "Exercises", [i for i in everything if i.kind == "exercise"],
            format_func=lambda item: _item_label(cat, item), placeholder="Choose exercises")
        snippets = st.multiselect(
            "Snippets of the guide (optional)", [i for i in everything if i.kind == "snippet"],
            format_func=lambda item: _item_label(cat, item), placeholder="Choose snippets")
        hours = st.number_input("Ends after (hours; 0 = no end time)", min_value=0.0,
                                max_value=24.0 * 30, value=0.0, step=0.5)
        versions = jax_version.available()
        jax = st.selectbox("JAX version for every run of the room", versions,
                           help="The version your team uses; the newest is first.",
                           ) if versions else None
        submitted = st.form_submit_button("Create the room", type="primary")
    ttl = settings().effective_room_ttl_hours
    if ttl:
        st.caption(f"Rooms on this server expire {ttl:g} hours after they are created.")
    if submitted:
        try:
            created = rooms.create_room(
                db, settings(), cat, name=name, items=[*exercises, *snippets],
                ends_at=time.time() + hours * 3600 if hours else None, client_id=_client_id(),
                jax=jax)
        except RoomError as exc:
            st.error(str(exc))
            return
        _opened(created)  # the dashboard's URL: a reload keeps both links


def _links(room: Room, token: str) -> None:
    """The join link and the facilitator link, on the dashboard itself (a reload keeps them)."""
    recovery = st.session_state.get(_CREATED, {}).get(room.code)
    if recovery:
        st.success("Room created. **Bookmark this page**: its address is the facilitator "
                   "link. Write down the recovery code: it is shown only now, and it gets you "
                   "a new facilitator link if this one is lost.")
        st.caption("Recovery code (shown once)")
        st.code(recovery, language=None)
    join = learner.link(ROOMS_PATH, **{JOIN_PARAM: room.code})
    private = learner.link(ROOMS_PATH, **{ROOM_PARAM: room.code, KEY_PARAM: token})
    join_col, private_col = st.columns(2)
    with join_col:
        st.caption("Join link: give it to the participants")
        st.code(join, language=None)
    with private_col, st.expander("Facilitator link: secret, it opens this dashboard",
                     expanded=bool(recovery)):
        st.code(private, language=None)


def _runs_on(room: Room) -> str:
    if room.jax is None:
        return "Runs use the newest JAX this server has."
    if room.jax not in jax_version.available():
        return f"Runs use JAX {room.jax}, which this server does not have now: runs will say so."
    return f"Runs use JAX {room.jax}."


def facilitator_view(db: Store, cat: Catalogue, room: Room, token: str) -> None:
    page_header(f"Room: {plain.text(room.name)}")
    st.caption(_runs_on(room))
    _links(room, token)
    live_dashboard(db, room, cat)
    export_buttons(db, room, cat)
    if room.read_only(time.time()):
        return
    push_col, solution_col = st.columns(2, gap="large")
    with push_col:
        st.subheader("Push to the room", divider="gray")
        item = st.selectbox("Exercise or snippet", room.items,
                            format_func=lambda i: _item_label(cat, i), key="push-item")
        if st.button("Push", key="push-btn", help="Participants see it at their next click"):
            rooms.push_item(db, room, item)
            st.toast(f"Pushed: {plain.text(cat.title(item))}")
    with solution_col:
        st.subheader("Show a passing solution", divider="gray")
        solution_panel(db, room, cat)
    with st.expander("Close the room"):
        st.caption("Nobody can join any more and nothing new is recorded; you and every "
                   "participant can still read the results, and export them.")
        if st.checkbox("Yes, close it", key="close-confirm") and st.button("Close the room"):
            rooms.close_room(db, room)
            st.rerun()


# --- participants ----------------------------------------------------------------------------


def join_view(db: Store, room: Room) -> None:
    page_header(f"Join: {plain.text(room.name)}")
    with st.form("join-room"):
        name = st.text_input("Your display name (the facilitator sees it, nobody else does)",
                             max_chars=NAME_CHARS)
        joined = st.form_submit_button("Join", type="primary")
    if joined:
        try:
            token = learners.join_room(db, settings(), room.code, name,
                                       client_id=_client_id())
        except RoomError as exc:
            st.error(str(exc))
            return
        st.query_params.clear()
        learner.remember_token(token)
        st.rerun()


def _open_push(db: Store, who: Learner, item: Item | None, up_to: int) -> None:
    """Button callback (runs before the next draw, so it may set the picker's value)."""
    if item is not None:
        st.session_state[_PICKED] = item
    learners.acknowledge_pushes(db, who, up_to)


def _pushes(db: Store, cat: Catalogue, who: Learner, items: list[Item]) -> None:
    unseen = learners.unseen_pushes(db, who)
    if not unseen:
        return
    newest = unseen[0].id
    for push in unseen[:3]:
        item = Item("exercise" if push.kind == "solution" else push.kind, push.item_id)  # type: ignore[arg-type]
        what = "a solution for " if push.kind == "solution" else ""
        text_col, open_col = st.columns([5, 1], vertical_alignment="center")
        text_col.info(f"The facilitator shared {what}*{plain.text(cat.title(item))}*.")
        open_col.button("Open", key=f"open-push::{push.id}", on_click=_open_push,
                        args=(db, who, item if item in items else None, newest))
    st.button("Dismiss", key="dismiss-pushes", on_click=_open_push, args=(db, who, None, newest))


def _item_changed() -> None:
    picked = st.session_state.get(PICK)
    if isinstance(picked, Item):
        st.session_state[_PICKED] = picked


def remaining(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes >= 120:
        return f"{minutes / 60:.1f} h"
    return f"{minutes} min" if minutes else "less than a minute"


@st.fragment(run_every=PULSE_S)
def room_pulse(db: Store, room_id: int) -> None:
    """Redrawn every PULSE_S: the time left, and a redraw of the whole view when the
    facilitator pushed something or the room ended (one indexed query a tick; the view itself
    is drawn again only when one of those changed)."""
    now = time.time()
    beat = pulse(db, room_id)
    seen = st.session_state.get(_PULSE)
    st.session_state[_PULSE] = (room_id, beat.latest_push if beat else -1,
                                beat.ended(now) if beat else True)
    if seen is not None and seen != st.session_state[_PULSE]:
        st.rerun()  # scope "app": the pushes and the room's state sit outside this fragment
    if beat is None:
        return
    ends = [t for t in (beat.ends_at, beat.expires_at) if t is not None]
    if beat.ended(now):
        reason = ("This room was closed by its facilitator" if beat.closed
                  else "This room has ended")
        st.warning(f"{reason}: you can still read your work; new attempts are not recorded.",
                   icon=":material/lock:" if beat.closed else ":material/timer_off:")
    elif ends:
        st.caption(f":material/timer: Ends in {remaining(min(ends) - now)}")


def participant_view(db: Store, cat: Catalogue, who: Learner) -> None:
    room = who.room
    assert room is not None
    page_header(f"Room: {plain.text(room.name)}")
    name_col, guide_col = st.columns([4, 1], vertical_alignment="center")
    name_col.caption(f"You are **{plain.text(who.name)}**. Your code and progress are saved "
                     f"under your personal link. {_runs_on(room)}")
    guide_col.link_button("The guide ↗", learner.base_url() + "/", icon=":material/menu_book:",
                          help="Opens in a new tab, apart from this room")
    learner.personal_link_box(ROOMS_PATH)
    room_pulse(db, room.id)  # the time left, or why the room is read-only, kept current
    items = list(room.items)
    _pushes(db, cat, who, items)
    progress = learners.progress(db, who)
    done = sum(progress.get(i) is not None and progress[i].mark == "done"
               for i in room.exercise_ids())
    if room.exercise_ids():
        st.caption(f"{done} of {len(room.exercise_ids())} exercises done · {LEGEND}")

    def label(item: Item) -> str:
        if item.kind == "exercise":
            return marked(cat.title(item), progress.get(item.id))
        return f"▸ {cat.title(item)}"

    item = state.pinned(st.radio, "Work on", PICK, items, st.session_state.get(_PICKED),
                        on_change=_item_changed, format_func=label, horizontal=True)
    st.session_state[_PICKED] = item
    st.subheader(cat.title(item), divider="gray")
    if item.kind == "exercise":
        exercise = cat.exercise(item.id)
        if exercise is not None:
            exercise_area(exercise, db, who, progress.get(item.id),
                          shown_solution=learners.latest_solution(db, who, item.id))
    else:
        snippet = cat.snippet(item.id)
        if snippet is not None:
            room_snippet_area(snippet, db, who)
