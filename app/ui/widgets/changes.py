"""What moved since the previous run, and what differs between two stacks: IR diffs for the
jaxpr and the optimised HLO of the same function."""

from __future__ import annotations

import streamlit as st

from app import jaxpr_names
from app.protocol import InspectResult, RunResult
from app.ui.widgets import diff_view

_HISTORY = "insight-history::"
DIFFED_VIEWS = {"jaxpr": "jaxpr", "hlo": "optimised HLO"}


RENAMED_HELP = ("JAX names variables a, b, c, ... as it meets them, so the same computation "
                "built in another order prints other letters. With this on, both jaxprs are "
                "compared with each nested jaxpr's variables renamed in order of first "
                "appearance: only the structure that differs is marked.")


def comparable(view: str, old: str, new: str, key: str) -> tuple[str, str]:
    """The two texts as the diff compares them: jaxprs modulo variable names unless the
    learner turns that off."""
    if view != "jaxpr":
        return old, new
    if not st.toggle("Ignore variable names", value=True, key=f"{key}::renamed",
                     help=RENAMED_HELP):
        return old, new
    st.caption("Variables renamed in order of first appearance in each jaxpr; the jaxpr tabs "
               "show them as JAX printed them.")
    return jaxpr_names.canonical(old), jaxpr_names.canonical(new)


def previous_inspect(area: str, result: RunResult) -> InspectResult | None:
    """The inspect result of the run before `result` in this area (kept in the session).

    A result seen for the first time moves the one shown before it to "previous"; redraws of
    the same result change nothing.
    """
    key = _HISTORY + area
    current, before = st.session_state.get(key, (None, None))
    if current is not result:
        before = current
        st.session_state[key] = (result, before)
    return before.inspect if isinstance(before, RunResult) else None


def show_since_previous(view: str, now: InspectResult, before: InspectResult | None,
                        key: str) -> None:
    """An expander with the diff of one view against the previous run of the same function."""
    if before is None:
        return
    old, new = getattr(before, view, None), getattr(now, view, None)
    if not old or not new:
        return
    if before.expression != now.expression:
        st.caption(f"Your previous run inspected `{before.expression}`: no {DIFFED_VIEWS[view]} "
                   "of the same function to compare with.")
        return
    renamed = view == "jaxpr" and st.session_state.get(f"{key}::since::{view}::renamed", True)
    shown = (jaxpr_names.canonical(old), jaxpr_names.canonical(new)) if renamed else (old, new)
    diff = diff_view.compute(*shown)  # the label counts what the expander shows
    with st.expander(f"Changes since your previous run: {diff_view.summary(diff)}",
                     expanded=False):
        old, new = comparable(view, old, new, f"{key}::since::{view}")
        diff_view.show_diff(old, new, "previous run", "this run", key=f"{key}::since::{view}")


def show_stack_diff(label_a: str, a: RunResult, label_b: str, b: RunResult, key: str) -> None:
    """Stack A against stack B: the jaxpr or the optimised HLO, unified or side by side."""
    if not (a.inspect and b.inspect):
        return
    available = [v for v in DIFFED_VIEWS if getattr(a.inspect, v) and getattr(b.inspect, v)]
    if not available:
        return
    st.markdown("**A against B**")
    view = st.segmented_control("Compare", available, default=available[0],
                                format_func=DIFFED_VIEWS.__getitem__, key=f"{key}::view")
    view = view or available[0]
    old, new = comparable(view, getattr(a.inspect, view), getattr(b.inspect, view),
                          f"{key}::{view}")
    diff_view.show_diff(old, new, label_a, label_b, key=f"{key}::{view}",
                        side_by_side_default=True)
