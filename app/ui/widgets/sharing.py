"""The Share button and the restoring of shared links, on top of app.ui.share's encoding."""

from __future__ import annotations

import json
import re
from typing import Any

import streamlit as st

from app.ui import icons, jax_version, state
from app.ui.share import QUERY_PARAM, SharedState, ShareLinkError, decode, encode

_APPLIED = "_share-applied"
_TARGET = "_share-target"  # (link token, snippet id) of the snippet a link opened, to mark it

# Scrolls to the shared snippet's heading; editors above it grow as they load, so it follows the
# heading for a few seconds, and stops as soon as the person scrolls or types themselves.
_SCROLL_SCRIPT = """<script>
(() => {
  const anchor = %s;
  let tries = 0;
  const stop = () => clearInterval(timer);
  const timer = setInterval(() => {
    const heading = document.getElementById(anchor);
    if (heading) heading.scrollIntoView({block: "start"});
    if (++tries >= 12) stop();
  }, 300);
  for (const kind of ["wheel", "touchmove", "keydown", "mousedown"]) {
    window.addEventListener(kind, stop, {once: true, passive: true});
  }
})();
</script>"""


def link_for(shared: SharedState) -> str:
    """The full link (this page's URL + the share parameter); raises ShareLinkError if too long."""
    token = encode(shared)
    base = st.context.url or ""
    return f"{base}?{QUERY_PARAM}={token}"


def share_button(container: Any, shared: SharedState, key: str) -> None:
    """A Share button in container; clicked, it shows the link and puts it in the address bar."""
    if not container.button("Share", key=f"share::{key}", help="A link that opens this code"):
        return
    version = jax_version.current()
    if version and "jax" not in shared.extra:
        shared.extra["jax"] = version
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


def download_file_name(snippet_id: str) -> str:
    """'static-args-as-written.py' for 'jit-compilation/static-args-as-written'."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in snippet_id.rsplit("/", 1)[-1])
    return f"{stem.strip('-') or 'snippet'}.py"


def download_button(container: Any, code: str, snippet_id: str) -> None:
    """The code as a .py file, beside Share (no rerun: the page stays as it is)."""
    container.download_button(
        "Download .py", data=code, file_name=download_file_name(snippet_id),
        mime="text/x-python", key=f"download::{snippet_id}", on_click="ignore",
        icon=":material/download:", help="This code as a Python file",
    )


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
        shared = decode(token)
    except ShareLinkError as exc:
        st.warning(str(exc), icon=icons.LINK)
        return None
    if "jax" in shared.extra:
        jax_version.preset_from_link(shared.extra["jax"])
    return shared


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
    if "inspect" in shared.extra:
        state.preset(f"inspect::{shared.snippet_id}", shared.extra["inspect"])
    for other_id, other_code in shared.extra.get("codes", {}).items():
        if other_id in known_ids:
            state.replace_code(other_id, other_code)
    st.session_state[_TARGET] = (st.query_params.get(QUERY_PARAM), shared.snippet_id, False)
    st.info("Opened from a share link: the shared snippet is marked below.", icon=icons.LINK)
    return True


def mark_if_shared(snippet_ids: set[str], anchor: str) -> None:
    """Under a snippet's heading: if this page was opened from a link to it, mark it, and scroll
    to it the first time (anchor: the heading's id)."""
    target = st.session_state.get(_TARGET)
    if not (isinstance(target, tuple) and target[1] in snippet_ids):
        return
    token, snippet_id, scrolled = target
    if st.query_params.get(QUERY_PARAM) != token:  # the link was replaced since
        return
    st.info("Shared with you: this is the snippet the link points to, with the shared code.",
            icon=icons.LINK)
    if not scrolled:
        st.session_state[_TARGET] = (token, snippet_id, True)
        safe_anchor = re.sub(r"[^A-Za-z0-9_-]", "", anchor)  # only a heading id reaches the script
        st.html(_SCROLL_SCRIPT % json.dumps(safe_anchor), unsafe_allow_javascript=True)
