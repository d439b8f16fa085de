"""Who is using the exercise and room pages: the store, the private token in the page's link,
and the links a room hands out. The logic lives in app.rooms; this is its Streamlit side.

Identity across pages: Streamlit's navigation drops a page's query parameters, so the token
would vanish from the link at the first sidebar click, and with it the person's progress. The
entry point calls keep_identity() before every page: a token in the link is remembered in the
session, and a link without one gets it written back, so every page, a reload and Back keep it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st

from app.config import settings
from app.rooms import learners
from app.rooms.inputs import RoomError
from app.rooms.learners import Learner
from app.rooms.store import Store, get_store

log = logging.getLogger(__name__)
TOKEN_PARAM = "p"  # a participant's (or a lone learner's) private token
JOIN_PARAM = "join"  # a room's public code, in its join link
ROOM_PARAM = "room"  # a room's code, in the facilitator link
KEY_PARAM = "key"  # the facilitator's secret token
ROOMS_PATH = "rooms"
EXERCISES_PATH = "exercises"
_KEPT_TOKEN = "identity::token"
_ROOM_MEMBER = "identity::room-member"  # (token, whether it belongs to a room)


@st.cache_resource(show_spinner="Opening the database…")
def _shared_store() -> Store:
    return get_store()


def store() -> Store | None:
    """The process-wide store, or None after telling the person it is unavailable."""
    try:
        return _shared_store()
    except Exception as exc:  # the operator sees the cause in the log; the person a sentence
        log.error("the rooms database cannot be opened", exc_info=exc)
        detail = "" if settings().hosted else f" ({type(exc).__name__}: {exc})"
        st.error("Progress cannot be saved right now: the playground's database is unavailable"
                 f"{detail}.")
        return None


def param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if isinstance(value, str) else None


def keep_identity() -> str | None:
    """Remember the link's token in the session, or put the remembered one back into a link
    that lost it (a page switch); the token in force, if any."""
    in_link = param(TOKEN_PARAM)
    if in_link is not None:
        st.session_state[_KEPT_TOKEN] = in_link
        return in_link
    kept = st.session_state.get(_KEPT_TOKEN)
    if isinstance(kept, str):
        st.query_params[TOKEN_PARAM] = kept
        return kept
    return None


def remember_token(token: str) -> None:
    """A token just made (a join, a first Check): in the link and in the session."""
    st.session_state[_KEPT_TOKEN] = token
    st.query_params[TOKEN_PARAM] = token


def in_a_room(token: str | None) -> bool:
    """Whether token belongs to a room's participant: looked up once per session and token
    (the entry point asks on every rerun, so it must not cost a query each time)."""
    if token is None:
        return False
    known = st.session_state.get(_ROOM_MEMBER)
    if isinstance(known, tuple) and known[0] == token:
        return bool(known[1])
    member = False
    try:
        member = learners.learner(_shared_store(), token).room is not None
    except Exception:  # a bad token, a closed room, no database: the page says why
        member = False
    st.session_state[_ROOM_MEMBER] = (token, member)
    return member


def personal_link_box(path: str) -> None:
    """The person's link to `path` with their token, to copy (nothing without a token)."""
    token = param(TOKEN_PARAM)
    if token is None:
        return
    with st.expander("Your personal link"):
        st.caption("It brings back your code and progress on any device: bookmark it. "
                   "Anyone who has it can see and change your work.")
        st.code(link(path, **{TOKEN_PARAM: token}), language=None)


def current_learner(db: Store) -> Learner | None:
    """The person named by the link's token (None without one); a bad token is said once."""
    token = param(TOKEN_PARAM)
    if token is None:
        return None
    try:
        return learners.learner(db, token)
    except RoomError as exc:
        st.error(str(exc))
        return None


def ensure_learner(db: Store) -> Learner:
    """The current learner, or a new one on their own whose token goes into the link (call it
    when there is something to keep: every learner is a row; RoomError past the client's
    hourly number of new links)."""
    from app.ui.run import current_client

    found = current_learner(db)
    if found is not None:
        return found
    token = learners.start_alone(db, settings=settings(), client_id=current_client() or "local")
    remember_token(token)
    return learners.learner(db, token)


def base_url() -> str:
    """This app's address as the browser sees it (for links handed out), without a path."""
    url = getattr(st.context, "url", None) or ""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        prefix = parts.path.rsplit("/", 1)[0]  # keeps a base path such as /playground
        return f"{parts.scheme}://{parts.netloc}{prefix}"
    host = st.context.headers.get("Host") if st.context.headers else None
    return f"http://{host}" if host else ""


def link(path: str, **params: Any) -> str:
    return f"{base_url()}/{path}?{urlencode(params)}"
