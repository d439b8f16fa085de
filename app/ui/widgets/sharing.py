"""The Share button and the restoring of shared links, on top of app.ui.share's encoding."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui import icons, state
from app.ui.share import QUERY_PARAM, SharedState, ShareLinkError, decode, encode

_APPLIED = "_share-applied"


def link_for(shared: SharedState) -> str:
    """The full link (this page's URL + the share parameter); raises ShareLinkError if too long."""
    token = encode(shared)
    base = st.context.url or ""
    return f"{base}?{QUERY_PARAM}={token}"


def share_button(container: Any, shared: SharedState, key: str) -> None:
    """A Share button in container; clicked, it shows the link and puts it in the address bar."""
    if not container.button("Share", key=f"share::{key}", help="A link that opens this code"):
        return
    try:
        link = link_for(shared)
    except ShareLinkError as exc:
        st.warning(str(exc))
        return
    token = link.rsplit(f"{QUERY_PARAM}=", 1)[1]
    st.session_state[_APPLIED] = token  # our own link: nothing to restore on the next rerun
    st.query_params[QUERY_PARAM] = token
    st.caption("Share link (also in the address bar now): copy it with the button on the right")
    st.code(link, language=None, wrap_lines=True)


def incoming() -> SharedState | None:
    """The state of the share link this page was opened with, once per distinct link.

    A damaged or oversized link shows a notice and yields None: the page opens as usual.
    """
    token = st.query_params.get(QUERY_PARAM)
    if not token:
        return None
    if st.session_state.get(_APPLIED) == token:
        return None
    st.session_state[_APPLIED] = token
    try:
        return decode(token)
    except ShareLinkError as exc:
        st.warning(str(exc), icon=icons.LINK)
        return None


def apply_code(shared: SharedState, known_ids: set[str]) -> bool:
    """Put the shared code (and any extra editors' code) into this session; False if unknown."""
    if shared.snippet_id not in known_ids:
        st.warning(
            f"This share link is for a snippet that is not on this page ({shared.snippet_id!r}); "
            "the page opened with its own code.",
            icon=icons.LINK,
        )
        return False
    state.replace_code(shared.snippet_id, shared.code)
    if isinstance(shared.extra.get("inspect"), bool):
        state.preset(f"inspect::{shared.snippet_id}", shared.extra["inspect"])
    for other_id, other_code in dict(shared.extra.get("codes", {})).items():
        if other_id in known_ids and isinstance(other_code, str):
            state.replace_code(other_id, other_code)
    st.info("Opened from a share link: the code below is the shared version.", icon=icons.LINK)
    return True
