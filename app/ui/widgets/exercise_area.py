"""One exercise: statement, editor, Check, hints one at a time, the solution on request, and the
check's verdict. A fragment: checking or editing reruns this area only.

With a learner (a token in the link), the code is saved as a draft when the editor sends it,
every check is recorded as an attempt, and revealed hints and solutions are recorded too; a
fresh session (refresh, another device, a server restart) starts from the saved draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from app.config import settings
from app.exercises import Exercise
from app.protocol import CheckResult, RunResult
from app.rooms import learners
from app.rooms.attempts import check_request, new_attempt_key, record_result
from app.rooms.inputs import RoomError
from app.rooms.learners import Learner
from app.rooms.store import Store
from app.ui import icons, learner, plain, state
from app.ui.run import collect, submit
from app.ui.widgets.editor import editor
from app.ui.widgets.results import show_output_tab

_SAVED = "saved-draft::"
_LOADED = "draft-loaded::"


@dataclass
class Submitted:
    code: str
    attempt_key: str


def area_id(exercise: Exercise) -> str:
    return f"exercise::{exercise.id}"


def load_draft(db: Store | None, who: Learner | None, item_id: str, key: str,
               shipped: str) -> None:
    """Once per session and person: put their saved draft of item_id in the editor `key`."""
    if db is None or who is None or st.session_state.get(_LOADED + key) == who.id:
        return
    st.session_state[_LOADED + key] = who.id
    saved = learners.draft(db, who, item_id)
    st.session_state[_SAVED + key] = saved
    if saved is not None and saved != state.code(key, shipped):
        state.replace_code(key, saved)


def save_draft(db: Store | None, who: Learner | None, item_id: str, key: str, shipped: str,
               code: str) -> None:
    """Save the editor's code when it changed since the last save (nothing typed: nothing)."""
    if db is None or who is None or st.session_state.get(_SAVED + key) == code:
        return
    if code == shipped and st.session_state.get(_SAVED + key) is None:
        return
    try:
        learners.save_draft(db, settings(), who, item_id, code)
        st.session_state[_SAVED + key] = code
    except RoomError as exc:
        st.warning(str(exc))


def show_check(check: CheckResult | None, result: RunResult) -> None:
    if check is None:
        st.warning(f"The check did not finish: {plain.text(result.message or result.status)}")
        return
    if check.passed:
        st.success(f"**Passed**: all {len(check.passed_cases)} cases.", icon=":material/check:")
    else:
        st.error(f"**Not yet.** Case *{plain.text(check.case or '?')}*: "
                 f"{plain.text(check.message)}", icon=":material/close:")
    if check.passed_cases:
        with st.expander(f"Cases passed ({len(check.passed_cases)})"):
            st.text("\n".join(check.passed_cases))


def _reveal_hint(db: Store | None, who: Learner | None, exercise: Exercise, count: int) -> None:
    """Button callback: runs before the next draw, which then shows the new hint."""
    st.session_state[f"hints::{exercise.id}"] = count + 1
    if db is not None and who is not None:
        try:
            learners.reveal_hint(db, who, exercise.id, len(exercise.hints))
        except RoomError as exc:  # the database busy: the hint shows, unrecorded, and says so
            st.warning(str(exc))


def _reveal_solution(db: Store | None, who: Learner | None, exercise: Exercise) -> None:
    st.session_state[f"solution::{exercise.id}"] = True
    if db is not None and who is not None:
        try:
            learners.reveal_solution(db, who, exercise.id)
        except RoomError as exc:
            st.warning(str(exc))


def _hints(db: Store | None, who: Learner | None, exercise: Exercise, shown: int) -> None:
    count = max(shown, int(st.session_state.get(f"hints::{exercise.id}", 0)))
    for number, hint in enumerate(exercise.hints[:count], start=1):
        st.info(f"**Hint {number}.** {hint}", icon=icons.ADVICE)
    if count < len(exercise.hints):
        st.button(f"Show hint {count + 1} of {len(exercise.hints)}",
                  key=f"hint-btn::{exercise.id}", on_click=_reveal_hint,
                  args=(db, who, exercise, count))


def _solution(db: Store | None, who: Learner | None, exercise: Exercise, shown: bool) -> None:
    if shown or st.session_state.get(f"solution::{exercise.id}"):
        st.caption("Solution")
        st.code(exercise.solution, language="python")
        return
    st.button("Show the solution", key=f"solution-btn::{exercise.id}",
              help="Recorded: your progress shows that you saw it.",
              on_click=_reveal_solution, args=(db, who, exercise))


@st.fragment
def exercise_area(exercise: Exercise, db: Store | None, who: Learner | None,
                  progress: learners.Progress | None = None,
                  shown_solution: str | None = None, solo: bool = False) -> None:
    """solo: a person on their own; their first Check starts a personal link (the token)."""
    key = area_id(exercise)
    load_draft(db, who, exercise.id, key, exercise.starter)
    st.markdown(exercise.statement)  # our own text, not user input
    event = editor(key, exercise.starter)
    save_draft(db, who, exercise.id, key, exercise.starter, event.code)
    check_col, reset_col, _ = st.columns([1, 1, 5])
    clicked = check_col.button("Check", key=f"check::{exercise.id}", type="primary",
                               icon=icons.RUN, help="Runs your code, then the exercise's check")
    reset_col.button("Starter", key=f"starter::{exercise.id}",
                     disabled=event.code == exercise.starter, on_click=state.reset, args=(key,),
                     help="Back to the starter code (your attempts stay recorded)")
    if clicked or event.submitted:
        attempt = Submitted(event.code, new_attempt_key())
        request = check_request(exercise, event.code, attempt.attempt_key)
        submit(key, [request], attempt)
    done = collect(key)
    if done:
        (result,), attempt = done
        if isinstance(attempt, Submitted):
            if db is not None:
                # Alone, the personal link starts with the first check that ran (not before).
                keeper = who or (partial(learner.ensure_learner, db) if solo else None)
                try:
                    record_result(db, settings(), keeper, exercise, attempt.code,
                                  attempt.attempt_key, result)
                    st.session_state[_SAVED + key] = attempt.code
                except RoomError as exc:
                    st.warning(str(exc))
            state.set_result(key, (result, attempt.code))
    stored = state.result(key)
    if stored:
        result, ran_code = stored
        show_check(result.check, result)
        with st.expander("Run output", expanded=result.check is None or result.status != "ok"):
            show_output_tab(result, ran_code)
    shown = progress.hints_shown if progress else 0
    if exercise.hints:
        _hints(db, who, exercise, shown)
    _solution(db, who, exercise, bool(progress and progress.solution_shown))
    if shown_solution is not None:
        st.caption("A solution from the room, shown by the facilitator (anonymous)")
        st.code(shown_solution, language="python")
