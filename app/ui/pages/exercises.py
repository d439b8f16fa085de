"""Exercises by guide section, with progress marks; the chosen exercise below the list."""

from __future__ import annotations

import streamlit as st

from app.exercises import Exercise, ExerciseError, ExerciseSet, load_exercises
from app.rooms import learners
from app.snippets import SnippetError
from app.ui import learner
from app.ui.widgets.chrome import page_header
from app.ui.widgets.exercise_area import exercise_area

INTRO = (
    "Small tasks, one idea of the guide each. Edit the starter code until **Check** passes: the "
    "check runs in the sandbox right after your code and says which case failed and why. Hints "
    "come one at a time; the solution is there when you ask for it."
)
MARKS = {"done": "✓", "attempted": "✗", "not started": "○"}
EXERCISE_PARAM = "exercise"


@st.cache_resource(show_spinner=False)
def exercise_set() -> ExerciseSet | str:
    try:
        return load_exercises()
    except (ExerciseError, SnippetError) as exc:
        return str(exc)


def mark_label(exercise: Exercise, progress: dict[str, learners.Progress]) -> str:
    mark = progress.get(exercise.id)
    state = mark.mark if mark else "not started"
    return f"{MARKS[state]} {exercise.title}"


def _done_in(found: ExerciseSet, slug: str, progress: dict[str, learners.Progress]) -> int:
    return sum(progress.get(e.id) is not None and progress[e.id].mark == "done"
               for e in found.for_section(slug))


def render_exercises() -> None:
    page_header("Exercises", INTRO)
    found = exercise_set()
    if isinstance(found, str):
        st.error(f"The exercises did not load: {found}")
        return
    db = learner.store()
    who = learner.current_learner(db) if db is not None else None
    progress = learners.progress(db, who) if db is not None and who is not None else {}
    done = sum(p.mark == "done" for p in progress.values())
    st.caption(f"{done} of {len(found.exercises)} done · ✓ done · ✗ attempted · ○ not started"
               + ("" if who else " · your progress is saved from your first Check on, under "
                  "this page's link"))
    sections = found.sections()
    titles = {slug: f"{title} ({_done_in(found, slug, progress)}/{len(found.for_section(slug))})"
              for slug, title in sections}
    wanted = learner.param(EXERCISE_PARAM)
    chosen = found.by_id(wanted) if wanted else None
    slug = st.selectbox("Section", [s for s, _ in sections], format_func=titles.__getitem__,
                        index=[s for s, _ in sections].index(chosen.section_slug) if chosen else 0,
                        key="exercise-section")
    in_section = found.for_section(slug)
    exercise = st.radio("Exercise", in_section, format_func=lambda e: mark_label(e, progress),
                        index=in_section.index(chosen) if chosen in in_section else 0,
                        key=f"exercise-pick::{slug}", horizontal=True)
    if exercise is None:
        return
    if learner.param(EXERCISE_PARAM) != exercise.id:
        st.query_params[EXERCISE_PARAM] = exercise.id
    st.subheader(exercise.title, divider="gray")
    exercise_area(exercise, db, who, progress.get(exercise.id), solo=True)
