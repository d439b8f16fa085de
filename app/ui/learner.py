"""Who is using the exercise and room pages: the store, the private token in the page's link,
and the links a room hands out. The logic lives in app.rooms; this is its Streamlit side."""

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
    st.query_params[TOKEN_PARAM] = token
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
