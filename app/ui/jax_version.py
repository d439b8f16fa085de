"""The session's JAX version: one choice in the sidebar, used by every run area, kept in the
session and carried by share links. The default is the newest runtime this server has."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import runtimes
from app.config import settings
from app.protocol import RunResult
from app.ui import state

KEY = "jax-version"


def available() -> list[str]:
    """Runtime ids this server has, newest first ([] before `make setup`)."""
    return [r.id for r in runtimes.installed(settings())]


def picker(container: Any = None) -> str | None:
    """The sidebar's JAX version choice; None where the server has no runtime to choose."""
    options = available()
    if not options:
        return None
    target = container if container is not None else st.sidebar
    chosen = state.widget(target.selectbox, "JAX version", KEY, options[0], options=options,
                          help="Every run on every page uses this JAX (newest first). "
                               "Compare versions in the Playground runs on all of them.")
    if chosen not in options:
        state.preset(KEY, options[0])
        chosen = options[0]
    return str(chosen)


def current() -> str | None:
    """The JAX version runs of this session use: the sidebar's (its last choice, kept aside
    while a page without the sidebar drew), else the newest."""
    chosen = st.session_state.get(KEY) or st.session_state.get("keep::" + KEY)
    options = available()
    if isinstance(chosen, str) and chosen in options:
        return chosen
    return options[0] if options else None


def preset_from_link(version: str) -> None:
    """A share link's version: taken where this server has it, else a notice."""
    if version in available():
        state.preset(KEY, version)
    else:
        st.warning(f"This link was made on JAX {version}, which this server does not have; "
                   "runs use the version chosen in the sidebar.")


def ran_on(result: RunResult) -> str | None:
    """"JAX 0.12.1 · jaxlib 0.12.1 · Python 3.13.0" for a result that knows its runtime."""
    if result.runtime is None or not result.runtime.jax:
        return None
    return result.runtime.label()
