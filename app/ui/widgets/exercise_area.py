"""One exercise: statement, editor, Check, hints one at a time, the solution on request, and the
check's verdict. A fragment: checking or editing reruns this area only.

With a learner (a token in the link), the code is saved as a draft when the editor sends it,
every check is recorded as an attempt, and revealed hints and solutions are recorded too; a
fresh session (refresh, another device, a server restart) starts from the saved draft.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import partial

import streamlit as st

from app import busy
from app.config import settings
from app.exercises import Exercise
from app.protocol import CheckResult, RunResult
from app.rooms import learners
from app.rooms.attempts import check_request, new_attempt_key, record_result
from app.rooms.inputs import RoomError
from app.rooms.learners import Learner
from app.rooms.store import Store
from app.ui import icons, learner, plain, state
from app.ui.check_text import check_markdown
from app.ui.run import collect, submit
from app.ui.widgets.editor import LineMark, editor, mark_for, redraw_if_changed
from app.ui.widgets.results import show_output_tab

_SAVED = "saved-draft::"
_LOADED = "draft-loaded::"
_STAMP = "check-stamp::"  # (how many checks this session, when the last one came back)
_BUSY = "check-busy::"  # why the server, not the code, ended the last check
_RETRY = "check-retry::"  # Check again was pressed (set by its callback, before the draw)
_YOUR_LINE = re.compile(r"\(your line (\d+)\)")


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


def check_mark(result: RunResult | None, ran_code: str | None, code: str) -> LineMark | None:
    """The line to mark in the exercise's editor: the error's line, or the line a failed case
    names ("your line 6"), while the editor holds the code that was checked."""
    found = mark_for(result, ran_code, code)
    if found is not None or result is None or result.check is None or ran_code != code:
        return found
    named = _YOUR_LINE.search(result.check.message or "")
    if named is None or not 1 <= int(named.group(1)) <= code.count("\n") + 1:
        return None
    return LineMark(int(named.group(1)), plain.bounded(result.check.message, 300))


def _stored_check_mark(key: str, code: str) -> LineMark | None:
    stored = state.result(key)
    if isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], RunResult):
        return check_mark(stored[0], stored[1], code)
    return None


def stamp(key: str) -> str:
    """'Check 3 · 10:41:07': a verdict that comes back in a blink still reads as new."""
    count, at = st.session_state.get(_STAMP + key, (0, 0.0))
    return f"Check {count} · {time.strftime('%H:%M:%S', time.localtime(at))}" if count else ""


def _count_check(key: str) -> None:
    count, _ = st.session_state.get(_STAMP + key, (0, 0.0))
    st.session_state[_STAMP + key] = (count + 1, time.time())


def show_check(check: CheckResult | None, result: RunResult, label: str = "",
               busy_reason: str | None = None) -> None:
    """The verdict; label says which check it is (a number and a time)."""
    suffix = f"  \n*{label}*" if label else ""
    if busy_reason is not None:
        st.warning(f"**The server is busy**: your check was stopped by the clock because "
                   f"{plain.text(busy_reason)}. That says nothing about your code, and it was "
                   f"not counted as an attempt: check again.{suffix}",
                   icon=":material/hourglass_top:")
        return
    if check is None:
        st.warning(f"The check did not finish: {plain.text(result.message or result.status)}"
                   f"{suffix}")
        return
    if check.passed:
        st.success(f"**Passed**: all {len(check.passed_cases)} cases.{suffix}",
                   icon=":material/check:")
    else:
        st.error(f"**Not yet.** Case *{plain.text(check.case or '?')}*: "
                 f"{check_markdown(check.message)}{suffix}", icon=":material/close:")
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


def _server_busy(result: RunResult) -> str | None:
    local = not settings().runner_url  # worker hosts: this host's load says nothing
    return busy.busy_reason(result, busy.host_load() if local else None)


@st.fragment
def room_jax(who: Learner | None) -> str | None:
    """The JAX version the person's room runs on (None: the session's choice)."""
    room = who.room if who is not None else None
    return room.jax if room is not None else None


def exercise_area(exercise: Exercise, db: Store | None, who: Learner | None,
                  progress: learners.Progress | None = None,
                  shown_solution: str | None = None, solo: bool = False) -> None:
    """solo: a person on their own; their first Check starts a personal link (the token)."""
    key = area_id(exercise)
    load_draft(db, who, exercise.id, key, exercise.starter)
    st.markdown(exercise.statement)  # our own text, not user input
    drawn = _stored_check_mark(key, state.code(key, exercise.starter))
    event = editor(key, exercise.starter, drawn)
    save_draft(db, who, exercise.id, key, exercise.starter, event.code)
    check_col, reset_col, _ = st.columns([1, 1, 5])
    # No tooltips on these buttons: they covered the editor's last line.
    clicked = check_col.button("Check", key=f"check::{exercise.id}", type="primary",
                               icon=icons.RUN)
    reset_col.button("Starter", key=f"starter::{exercise.id}",
                     disabled=event.code == exercise.starter, on_click=state.reset, args=(key,))
    clicked = bool(st.session_state.pop(_RETRY + key, False)) or clicked
    if clicked or event.submitted:
        attempt = Submitted(event.code, new_attempt_key())
        request = check_request(exercise, event.code, attempt.attempt_key)
        request.jax = room_jax(who)
        submit(key, [request], attempt)
    done = collect(key)
    if done:
        (result,), attempt = done
        if isinstance(attempt, Submitted):
            reason = _server_busy(result)
            st.session_state[_BUSY + key] = reason
            recorded = False
            if db is not None:
                # Alone, the personal link starts with the first check that ran (not before).
                keeper = who or (partial(learner.ensure_learner, db) if solo else None)
                try:
                    recorded = record_result(db, settings(), keeper, exercise, attempt.code,
                                             attempt.attempt_key, result,
                                             server_busy=reason is not None)
                    st.session_state[_SAVED + key] = attempt.code
                except RoomError as exc:
                    st.warning(str(exc))
            state.set_result(key, (result, attempt.code))
            _count_check(key)
            if recorded:
                # The marks, the counts and the list above this area were drawn before the
                # attempt was recorded: draw the whole page again, with this result kept.
                st.rerun()
    stored = state.result(key)
    if stored:
        result, ran_code = stored
        reason = st.session_state.get(_BUSY + key)
        show_check(result.check, result, stamp(key), reason)
        if reason:
            st.button("Check again", key=f"retry::{exercise.id}", icon=":material/replay:",
                      on_click=st.session_state.__setitem__, args=(_RETRY + key, True))
        with st.expander("Run output", expanded=result.check is None or result.status != "ok"):
            show_output_tab(result, ran_code)
        redraw_if_changed(drawn, check_mark(result, ran_code, event.code))
    shown = progress.hints_shown if progress else 0
    if exercise.hints:
        _hints(db, who, exercise, shown)
    _solution(db, who, exercise, bool(progress and progress.solution_shown))
    if shown_solution is not None:
        st.caption("A solution from the room, shown by the facilitator (anonymous)")
        st.code(shown_solution, language="python")
