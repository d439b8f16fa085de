"""Exercises by guide section, with progress marks; the chosen exercise below the list."""

from __future__ import annotations

import streamlit as st

from app.exercises import Exercise, ExerciseError, ExerciseSet, load_exercises
from app.rooms import learners
from app.snippets import SnippetError
from app.ui import learner, state
from app.ui.marks import LEGEND, marked
from app.ui.widgets.chrome import page_header
from app.ui.widgets.exercise_area import exercise_area

INTRO = (
    "Small tasks, one idea of the guide each. Edit the starter code until **Check** passes: the "
    "check runs in the sandbox right after your code and says which case failed and why. Hints "
    "come one at a time; the solution is there when you ask for it."
)
EXERCISE_PARAM = "exercise"
SECTION_KEY = "exercise-section"
_CHOSEN = "exercise-chosen"  # the exercise on screen (its id): the page's own truth
_WRITTEN = "exercise-written"  # the id this page last wrote into the link
WHAT_NEXT = (
    "**All done.** Every exercise passes. What next: change a solution and predict what "
    "breaks in the **Playground**, stack transforms in the **Transform Lab**, or read the "
    "**Gotchas** side by side. Your personal link keeps this record."
)


@st.cache_resource(show_spinner=False)
def exercise_set() -> ExerciseSet | str:
    try:
        return load_exercises()
    except (ExerciseError, SnippetError) as exc:
        return str(exc)


def _done_in(found: ExerciseSet, slug: str, progress: dict[str, learners.Progress]) -> int:
    return sum(progress.get(e.id) is not None and progress[e.id].mark == "done"
               for e in found.for_section(slug))


def chosen_exercise(found: ExerciseSet) -> Exercise:
    """The exercise to show: one the link names anew (a shared or reloaded link), else the one
    chosen in this session (a page switch dropped the link's parameter), else the first."""
    wanted = learner.param(EXERCISE_PARAM)
    if wanted is not None and wanted != st.session_state.get(_WRITTEN):
        named = found.by_id(wanted)
        if named is not None:
            st.session_state[_CHOSEN] = named.id
    kept = found.by_id(str(st.session_state.get(_CHOSEN, "")))
    return kept or found.exercises[0]


def _section_changed(found: ExerciseSet) -> None:
    """Callback: a new section shows the exercise last chosen there, else its first."""
    slug = st.session_state[SECTION_KEY]
    last = st.session_state.get(f"{_CHOSEN}::{slug}")
    in_section = found.for_section(slug)
    pick = next((e for e in in_section if e.id == last), in_section[0] if in_section else None)
    if pick is not None:
        st.session_state[_CHOSEN] = pick.id


def _exercise_changed(key: str) -> None:
    picked = st.session_state.get(key)
    if isinstance(picked, Exercise):
        st.session_state[_CHOSEN] = picked.id
        st.session_state[f"{_CHOSEN}::{picked.section_slug}"] = picked.id


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
    total = len(found.exercises)
    st.caption(f"{done} of {total} done · {LEGEND}"
               + ("" if who else " · your progress is saved from your first Check on, under "
                  "a personal link"))
    if who is not None and done == total:
        st.success(WHAT_NEXT, icon=":material/celebration:")
    if who is not None:
        learner.personal_link_box(learner.EXERCISES_PATH)
    exercise = chosen_exercise(found)
    sections = found.sections()
    titles = {slug: f"{title} ({_done_in(found, slug, progress)}/{len(found.for_section(slug))})"
              for slug, title in sections}
    slug = state.pinned(st.selectbox, "Section", SECTION_KEY, [s for s, _ in sections],
                        exercise.section_slug, on_change=_section_changed, args=(found,),
                        format_func=titles.__getitem__)
    in_section = list(found.for_section(slug))
    pick_key = f"exercise-pick::{slug}"
    exercise = state.pinned(st.radio, "Exercise", pick_key, in_section, exercise,
                            on_change=_exercise_changed, args=(pick_key,),
                            format_func=lambda e: marked(e.title, progress.get(e.id)),
                            horizontal=True)
    if exercise is None:
        return
    st.session_state[_CHOSEN] = exercise.id
    if learner.param(EXERCISE_PARAM) != exercise.id:
        st.query_params[EXERCISE_PARAM] = exercise.id
    st.session_state[_WRITTEN] = exercise.id
    st.subheader(exercise.title, divider="gray")
    exercise_area(exercise, db, who, progress.get(exercise.id), solo=True)
