"""Results that do not mislead (issue 11): Inspect never blames the code for its own settings, one
status per result, large values summarised, Reset clears, the sandbox in one line, Download."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest
from test_pages import chips, open_page, texts

AREA = "playground/blank"


def plain(markdown: str) -> str:
    """Markdown whose characters were escaped (app.ui.plain), read back as the text shown."""
    return re.sub(r"\\(.)", r"\1", markdown)


def infos(at: AppTest) -> list[str]:
    return [plain(i.value) for i in at.info]


def run_playground(code: str, inspect: bool = True, function: str | None = None,
                   stack: list[str] | None = None) -> AppTest:
    at = open_page("playground.py")
    at.session_state[f"code::{AREA}"] = code
    at.toggle(key=f"inspect::{AREA}").set_value(inspect)
    at.slider(key=f"timeout::{AREA}").set_value(30.0)  # a busy shared host must not time out
    if function is not None:
        at.text_input(key=f"fn::{AREA}").set_value(function)
    if stack is not None:
        at.session_state[f"stack::{AREA}::stack"] = stack
    at.button(key=f"run::{AREA}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_inspect_without_the_named_function_is_a_notice_not_an_error_of_the_code() -> None:
    at = run_playground("print('no functions here')\n")
    assert [s.value for s in at.success] and "Ran in" in at.success[0].value
    assert not at.error, [e.value for e in at.error]
    assert any("no function named 'f'" in i for i in infos(at)), infos(at)


def test_inspect_picks_the_last_function_defined() -> None:
    at = run_playground("import jax.numpy as jnp\n\ndef g(x):\n    return jnp.sin(x).sum()\n\n"
                        "x = jnp.ones(3)\n")
    shown = texts(at)
    assert "jax.jit(g)" in shown and "Ran in" in shown and not at.error
    assert any("'g'" in i and "last function" in i for i in infos(at)), infos(at)


def test_no_jit_note_is_absent_for_a_jitted_function_and_never_speaks_of_a_stack() -> None:
    jitted = ("import jax\nimport jax.numpy as jnp\n\n@jax.jit\ndef f(x):\n    return x * 2\n\n"
              "x = jnp.ones(3)\n")
    at = run_playground(jitted, stack=[])
    assert not [w.value for w in at.warning if "jit" in w.value]
    home = open_page()
    home.button(key="run::home/first-snippet").click().run()
    notes = [w.value for w in home.warning]
    assert notes and all("stack" not in note for note in notes), notes


def test_one_status_when_the_transformed_function_raises() -> None:
    """The code runs, grad of a non-scalar function raises: no green 'Ran in' above the error."""
    at = run_playground("import jax.numpy as jnp\n\ndef f(x):\n    return x * 2\n\n"
                        "x = jnp.ones(3)\n", stack=["grad"])
    assert not at.success, [s.value for s in at.success]
    assert [e.value for e in at.error] == ["**The transformed function raised TypeError**"]


def test_large_values_are_summarised_with_the_whole_value_one_click_away() -> None:
    code = ("import jax.numpy as jnp\n\ndef f(x):\n"
            "    return {f'w{i}': x * i for i in range(100)}\n\n"
            "x = jnp.ones(4)\nf(x)\n")
    at = run_playground(code)
    captions = [plain(c.value) for c in at.caption]
    assert any(c.startswith("Value of the last expression: a large value") for c in captions)
    assert any(c.startswith("Its output on the example arguments: a large value")
               for c in captions)
    assert any("out['w0']: f32[4]" in c.value and "more" in c.value for c in at.code)
    whole = [e for e in at.expander if e.label.startswith("The whole value")]
    assert len(whole) == 2 and "'w99'" in whole[0].code[0].value


def test_reset_clears_the_areas_results() -> None:
    at = run_playground("raise ValueError('edited code')\n", inspect=False)
    assert at.error
    at.button(key=f"reset::{AREA}").click().run()
    assert not at.error and "edited code" not in texts(at)
    assert "Ran in" not in texts(at)


def test_sandbox_layers_fold_into_one_line() -> None:
    at = run_playground("print(1)\n", inspect=False)
    (line,) = [e for e in at.expander if e.label.startswith("Sandboxed: ")]
    assert line.label.split()[1].isdigit() and "layers" in line.label
    assert not any("sandbox: session" in c.value for c in at.caption)  # the old footer list
    assert "seccomp" in line.caption[0].value


def test_the_sandbox_line_says_how_the_runs_limits_held() -> None:
    at = run_playground("print(1)\n", inspect=False)
    (line,) = [e for e in at.expander if e.label.startswith("Sandboxed: ")]
    shown = [plain(c.value) for c in line.caption]
    assert any(s.startswith("memory: ") and "MiB" in s for s in shown), shown
    assert any(s.startswith("processes: ") for s in shown), shown
    assert any(s.startswith("oom score: 1000") for s in shown), shown


def test_download_button_beside_share_on_every_kind_of_page() -> None:
    for page, key in (("playground.py", f"download::{AREA}"),
                      ("transform_lab.py", "download::lab/playground/blank"),
                      ("section_core_transformations.py", None)):
        at = open_page(page)
        buttons = at.get("download_button")
        assert buttons and all(b.label == "Download .py" for b in buttons)
        if key:
            assert key in [b.key for b in buttons]


def test_start_page_leads_with_a_first_snippet_and_explains_the_tabs() -> None:
    at = open_page()
    assert at.subheader[0].value == "Run your first snippet"
    assert len(at.get("page_link")) >= 4  # where next, without repeating the sidebar
    at.button(key="run::home/first-snippet").click().run()
    shown = texts(at)
    assert "Ran in" in shown and "f(x) = 5.0" in shown
    assert [t.label for t in at.tabs] == ["Output", "jaxpr", "HLO", "Timings", "Cost"]
    labels = [e.label for e in at.expander]
    for note in ("How to read a jaxpr", "What each timing means", "What each field means"):
        assert note in labels
    assert "A **jaxpr** is JAX's own record" in shown and "**HLO** is the program" in shown


def _two_stacks() -> None:
    """The Transform Lab's results for two stacks, one 80x slower in steady state."""
    from app.protocol import InspectResult, RunResult, StepTiming, Timings
    from app.ui.pages.transform_lab import show_results

    def result(steady_s: float) -> RunResult:
        steady = StepTiming(steady_s, steady_s, steady_s / 10, 50)
        return RunResult(status="ok", duration_s=1.0, inspect=InspectResult(
            expression="f", jaxpr="{ lambda ; a:f32[]. let b:f32[] = sin a in (b,) }",
            timings=Timings(0.01, 0.02, 0.03, steady, steady)))

    show_results("lab/test", [("jax.jit(jax.grad(f))", result(1e-5)),
                              ("jax.grad(f)", result(8e-4))], "print(1)\n")


def test_transform_lab_compares_steady_states_on_one_time_axis() -> None:
    at = AppTest.from_function(_two_stacks, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert infos(at)[0] == ("A's steady state is 80x faster than B's (0.01 ms against 0.8 ms "
                            "per call).")
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    ranges = [spec["layout"]["xaxis"]["range"] for spec in specs]
    assert len(ranges) == 4 and all(r == ranges[0] for r in ranges), ranges
    low, high = 10 ** ranges[0][0], 10 ** ranges[0][1]
    assert low < 0.01 and high > 30  # every bar of both sides fits on the shared axis
    assert sum('class="pg-wrap"' in h.proto.body for h in at.html) == 2  # listings wrap


def test_transform_lab_side_with_an_error_has_no_success_status() -> None:
    at = open_page("transform_lab.py")
    area = "lab/playground/blank"
    at.session_state[f"code::{area}"] = (
        "import jax.numpy as jnp\n\ndef f(x):\n    return x * 2\n\nx = jnp.ones(3)\n")
    at.button(key=f"run::{area}").click().run()
    assert not at.success, [s.value for s in at.success]
    assert len(at.error) == 2  # one per side: grad of a non-scalar function
    assert any(i.startswith("No steady-state comparison") for i in infos(at)), infos(at)


@pytest.mark.parametrize("narrow", ["add", "remove"])
def test_stack_chips_wrap(narrow: str) -> None:
    at = open_page("transform_lab.py")
    group = chips(at, f"lab::a::playground/blank::{narrow}")
    assert group.proto.wrap is True


def _reset_an_area_with_a_run_in_flight() -> None:
    import streamlit as st

    from app.ui import state

    class InFlight:
        def stop(self) -> None:
            st.session_state["stopped"] = True

    state.set_result("area", ("a result", "code"))
    state.set_pending("area", InFlight())
    state.reset("area")
    st.write(state.result("area"), state.pending("area"), st.session_state.get("stopped"))


def test_reset_stops_the_areas_run_in_flight() -> None:
    at = AppTest.from_function(_reset_an_area_with_a_run_in_flight, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.markdown] == ["`None` `None` `True`"]
