"""A snippet inside a room: the guide's editor and Run, with the participant's edits saved."""

from __future__ import annotations

import streamlit as st

from app.rooms.learners import Learner
from app.rooms.store import Store
from app.snippets import Snippet
from app.ui.run import latest_result, submit
from app.ui.widgets.editor import editor
from app.ui.widgets.exercise_area import load_draft, room_jax, save_draft
from app.ui.widgets.results import show_result
from app.ui.widgets.snippet_area import build_request


@st.fragment
def room_snippet_area(snippet: Snippet, db: Store | None, who: Learner | None) -> None:
    key = f"room-snippet::{snippet.id}"
    item_id = f"snippet:{snippet.id}"  # drafts of snippets apart from exercises' of the same id
    load_draft(db, who, item_id, key, snippet.code)
    st.markdown(snippet.explanation)  # shipped text
    event = editor(key, snippet.code)
    save_draft(db, who, item_id, key, snippet.code, event.code)
    if st.button("Run", key=f"run::{key}", type="primary") or event.submitted:
        request = build_request(snippet, event.code, inspect=False)
        request.jax = room_jax(who)
        submit(key, [request], event.code)
    stored = latest_result(key)
    if stored:
        result, ran_code = stored
        show_result(result, ran_code)
