"""Streamlit entry point: `streamlit run app/main.py`. Page config and navigation only."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path, not the repository root that holds the package.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.server import freeze_long_lived  # noqa: E402
from app.ui import jax_version  # noqa: E402
from app.ui.navigation import navigate  # noqa: E402

# "auto": the sidebar opens on wide screens and starts collapsed on phones, where it would
# cover the page on every load.
st.set_page_config(page_title="JAX Playground", page_icon="🧪", layout="wide",
                   initial_sidebar_state="auto")
focused = navigate()
# In the sidebar of every page: the JAX every run area uses. Drawn after the page, so that a
# share link the page opened may set it first. A room's participant has no sidebar: the room's
# runs use the server's default JAX.
if not focused:
    jax_version.picker()
# After the first run has imported the app's modules: keep them out of the collector's passes.
freeze_long_lived()
