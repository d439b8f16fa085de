"""What every page shows around its content: title, the hosted-mode notice, shared styles."""

from __future__ import annotations

import streamlit as st

from app.config import settings
from app.ui import icons
from app.ui.widgets.results import inject_styles

HOSTED_NOTICE = (
    "**Public demo.** Your code runs in a locked-down sandbox: no network, no files outside a "
    "scratch folder that is wiped after the run, at most {timeout:g} s and {memory} MiB per run, "
    "{rate} runs a minute. Allowed: JAX, NumPy and the Python standard library. "
    "Do not paste secrets; runs are not private to the server's operator."
)


def hosted_notice() -> None:
    limits = settings()
    if limits.hosted:
        rate = limits.effective_rate_per_minute or "unlimited"
        st.info(HOSTED_NOTICE.format(timeout=limits.timeout_s, memory=limits.memory_mb,
                                     rate=rate), icon=icons.LOCK)


def page_header(title: str, intro: str | None = None) -> None:
    inject_styles()
    st.title(title)
    hosted_notice()
    if intro:
        st.markdown(intro)
