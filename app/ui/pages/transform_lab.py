"""Transform Lab: a snippet's function under a stack of transforms, and a second stack beside it
(e.g. jit(grad(f)) against grad(jit(f)): same values, different jaxprs and times)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.protocol import InspectRequest, RunRequest, TransformStep
from app.ui import icons, library, state
from app.ui.compare import steady_comparison
from app.ui.run import collect, submit
from app.ui.share import SharedState
from app.ui.widgets import changes, ir_view, sharing
from app.ui.widgets.charts import time_span_ms
from app.ui.widgets.chrome import page_header
from app.ui.widgets.editor import editor, mark_for, redraw_if_changed
from app.ui.widgets.ir_view import IrContext
from app.ui.widgets.pipeline_view import TOGGLE_HELP
from app.ui.widgets.results import View, show_result
from app.ui.widgets.snippet_area import INSPECT_VIEWS
from app.ui.widgets.target import target_picker
from app.ui.widgets.transforms import (
    expression,
    option_texts,
    preset_stack,
    stack_names,
    stack_picker,
)
from app.ui.widgets.version_compare import compare_button, show_comparison

_SNIPPET_KEY = "lab::snippet"
INTRO = (
    "Pick a function from the guide, wrap it in transforms, and see what JAX builds: the "
    "equivalent Python expression, the output, the jaxpr of the composition, and honest timings. "
    "Wrappers apply in the order you click them (the first wraps your function); one may repeat, "
    "e.g. grad twice for a second derivative."
)


def _choices() -> dict[str, Any]:
    options: dict[str, Any] = {f"Playground › {library.BLANK.title}": library.BLANK}
    for snippet in library.transformable():
        options[f"{snippet.section} › {snippet.title}"] = snippet
    return options


def _default_stacks(snippet: Any) -> tuple[list[str], list[str]]:
    useful = [t for t in ("grad", "jit") if t in (snippet.transforms or ("grad", "jit"))]
    first = useful if len(useful) == 2 else (useful or ["jit"])
    return first, list(reversed(first))


def _restore(shared: SharedState, choices: dict[str, Any]) -> None:
    """Set the widgets' state from a share link before they are drawn."""
    label = next((k for k, s in choices.items() if s.id == shared.snippet_id), None)
    if label is None:
        st.warning("This share link names a function the Transform Lab does not have; "
                   "the page opened with its defaults.", icon=icons.LINK)
        return
    snippet = choices[label]
    state.preset(_SNIPPET_KEY, label)
    state.replace_code(_area_id(snippet), shared.code)
    extra = shared.extra
    for field in ("function", "args"):
        if isinstance(extra.get(field), str):
            state.preset(f"lab::{field}::{snippet.id}", extra[field])
    for stack in ("a", "b"):
        names = extra.get(stack)
        texts = extra.get(f"{stack}_options", {})
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            preset_stack(f"lab::{stack}::{snippet.id}", names, texts)
    state.preset(f"lab::compare::{snippet.id}", bool(extra.get("compare", True)))
    state.preset(f"lab::passes::{snippet.id}", bool(extra.get("passes", False)))
    st.info("Opened from a share link: the code and stacks below are the shared ones.",
            icon=icons.LINK)


def _area_id(snippet: Any) -> str:
    return f"lab/{snippet.id}"


def _request(code: str, function: str, args: str, steps: list[TransformStep], snippet: Any,
             compare_unjitted: bool, passes: bool, target: str = "auto") -> RunRequest:
    return RunRequest(
        code=code,
        x64=bool(getattr(snippet, "x64", False)),
        target=target,  # type: ignore[arg-type]
        inspect=InspectRequest(function=function, args=args, transforms=steps,
                               views=list(INSPECT_VIEWS),  # type: ignore[arg-type]
                               timings=True, compare_unjitted=compare_unjitted,
                               numpy_function=getattr(snippet, "numpy_entry", None),
                               passes=passes, profile=True),
    )


def render_transform_lab() -> None:
    page_header("Transform Lab", INTRO)
    choices = _choices()
    shared = sharing.incoming()
    if shared:
        _restore(shared, choices)
    label = state.choice("Function from", _SNIPPET_KEY, list(choices))
    lab_body(choices[label])


def _mark(area: str, code: str) -> Any:
    """The failing line of the last run's code (both stacks run the same code)."""
    stored = state.result(area)
    if not stored:
        return None
    shown, ran_code = stored
    failed = [result for _, result in shown if result.error]
    return mark_for(failed[0], ran_code, code) if failed else None


def show_results(area: str, shown: list[tuple[str, Any]], ran_code: str) -> None:
    """Each stack's result in its column, on one time axis; a line comparing their speed."""
    results = [result for _, result in shown]
    if len(results) == 2:
        st.info(steady_comparison(*results), icon=":material/speed:")
    span = time_span_ms([r.inspect.timings if r.inspect else None for r in results])
    # One source-line picker marks the IR of both stacks.
    picked = ir_view.line_picker(f"pick::{area}", ran_code, ir_view.mapped_lines(
        *(result.inspect for result in results)))
    for index, (column, (label, result)) in enumerate(
        zip(st.columns(len(shown), gap="medium"), shown, strict=True)
    ):
        with column:
            st.markdown(f"**Stack {'AB'[index]}**")
            st.code(label, language="python")
            show_result(result, ran_code,
                        View(editor_id=area, wrap_listings=len(shown) > 1,
                             time_range_ms=span, key=f"{area}-{index}"),
                        IrContext(scope=area, picked=picked, draw_picker=False,
                                  history=f"{area}::{label}"))
    if len(shown) == 2:
        (label_a, result_a), (label_b, result_b) = shown
        changes.show_stack_diff(label_a, result_a, label_b, result_b, f"diff::{area}")


@st.fragment
def lab_body(snippet: Any) -> None:
    area = _area_id(snippet)
    drawn = _mark(area, state.code(area, snippet.code))
    with st.expander("Code (edit it; Ctrl+Enter runs)", expanded=True):
        event = editor(area, snippet.code, drawn)
        st.button("Reset code", key=f"reset::{area}", disabled=event.code == snippet.code,
                  on_click=state.reset, args=(area,))
    fn_col, args_col = st.columns([1, 2])
    # Values go through state.widget (not value=): a share link can preset them and they
    # survive page switches.
    function = state.widget(fn_col.text_input, "Function", f"lab::function::{snippet.id}",
                            snippet.entry or "f")
    args = state.widget(args_col.text_input,
                        "Example arguments (a Python tuple, evaluated in the snippet)",
                        f"lab::args::{snippet.id}", snippet.args or "()")
    default_a, default_b = _default_stacks(snippet)
    compare = state.widget(st.toggle, "Compare with a second stack",
                           f"lab::compare::{snippet.id}", True)
    columns = st.columns(2 if compare else 1, gap="medium")
    with columns[0]:
        steps_a = stack_picker(f"lab::a::{snippet.id}", "Stack A (innermost first)", default_a)
        if steps_a is not None:
            st.code(expression(function, steps_a), language="python")
    steps_b: list[TransformStep] | None = []
    if compare:
        with columns[1]:
            steps_b = stack_picker(f"lab::b::{snippet.id}", "Stack B (innermost first)", default_b)
            if steps_b is not None:
                st.code(expression(function, steps_b), language="python")
    run_col, unjit_col, passes_col, share_col, download_col, compare_col = st.columns(
        [1, 3, 3, 1, 1.5, 2], vertical_alignment="center")
    clicked = run_col.button("Run", key=f"run::{area}", type="primary", icon=icons.RUN,
                             disabled=steps_a is None or steps_b is None)
    compare_unjitted = state.widget(unjit_col.toggle, "Also time the function without jit",
                                    f"lab::unjitted::{snippet.id}", True)
    passes = state.widget(passes_col.toggle, "XLA passes (slower)",
                          f"lab::passes::{snippet.id}", False, help=TOGGLE_HELP)
    target = target_picker(unjit_col, f"lab::target::{snippet.id}")
    sharing.share_button(share_col, SharedState(snippet.id, event.code, {
        "function": function, "args": args, "compare": compare, "passes": passes,
        # The stacks' names even while an option does not parse (steps_* is then None).
        "a": stack_names(f"lab::a::{snippet.id}"), "b": stack_names(f"lab::b::{snippet.id}"),
        "a_options": option_texts(f"lab::a::{snippet.id}"),
        "b_options": option_texts(f"lab::b::{snippet.id}"),
    }), area)
    sharing.download_button(download_col, event.code, area)
    if steps_a is not None:  # stack A on every JAX version
        compare_button(compare_col, area, _request(event.code, function, args, steps_a, snippet,
                                                   compare_unjitted, passes, target), event.code)
    if (clicked or event.submitted) and steps_a is not None and steps_b is not None:
        stacks = [steps_a, steps_b] if compare else [steps_a]
        requests = [_request(event.code, function, args, steps, snippet, compare_unjitted,
                             passes, target) for steps in stacks]
        submit(area, requests, ([expression(function, s) for s in stacks], event.code))
    done = collect(area)
    if done:
        results, (labels, ran_code) = done
        state.set_result(area, ([*zip(labels, results, strict=True)], ran_code))
    redraw_if_changed(drawn, _mark(area, event.code))
    stored = state.result(area)
    if stored:
        show_results(area, *stored)
    show_comparison(area)
