"""The verdict of a gotcha pair: what differs, and whether that is what the guide says."""

from __future__ import annotations

from types import SimpleNamespace

from test_pages import LIBRARY, open_page

from app.protocol import ErrorInfo, RunResult
from app.ui.run import WAIT_IN_PLACE
from app.ui.verdict import verdict


def _expects(outcome: str, code: str = "shipped\n") -> SimpleNamespace:
    return SimpleNamespace(code=code,
                           expect=SimpleNamespace(outcome=outcome, describe=lambda: outcome))


def test_numpy_runs_jax_raises_as_expected() -> None:
    shown = verdict(RunResult(status="ok", stdout="[10 2 3]\n"),
                    RunResult(status="error", error=ErrorInfo("TypeError", "immutable")),
                    _expects("ok"), _expects("TypeError"))
    assert shown.text == "NumPy ran; JAX raised TypeError, as expected."
    assert shown.tone == "success"


def test_surprise_is_named() -> None:
    shown = verdict(RunResult(status="ok"), RunResult(status="ok"), _expects("ok"),
                    _expects("TypeError"))
    assert "not as the guide says" in shown.text
    assert "JAX was expected to give TypeError" in shown.text and shown.tone == "warning"


def test_same_output_and_what_differs() -> None:
    same = verdict(RunResult(status="ok", stdout="1\n"), RunResult(status="ok", stdout="1\n"))
    assert "same output" in same.text and same.difference is None
    different = verdict(RunResult(status="ok", stdout="a\n[10  2  3]\n"),
                        RunResult(status="ok", stdout="a\n[1 2 3]\n"))
    assert different.text == ("Both ran; their printed output differs first at line 2: NumPy "
                              "printed “[10  2  3]”, JAX printed “[1 2 3]”.")
    assert different.difference == "NumPy: [10  2  3]\nJAX:   [1 2 3]"
    values = verdict(RunResult(status="ok", value_repr="3"),
                     RunResult(status="ok", value_repr="Array(3, dtype=int32)"))
    assert "value of the last line differs" in values.text and "Array(3" in values.text


def test_fixing_the_jax_side_is_called_a_fix_not_a_surprise() -> None:
    shown = verdict(RunResult(status="ok"), RunResult(status="ok"), _expects("ok"),
                    _expects("TypeError"), "shipped\n", "x = x.at[0].set(10)\n")
    assert "fixed: the JAX side now runs" in shown.text
    assert "not as the guide says" not in shown.text and shown.tone == "success"


def test_timeout_is_described_not_called_an_exception() -> None:
    shown = verdict(RunResult(status="ok"), RunResult(status="timeout"))
    assert "JAX: time limit reached" in shown.text


def test_gotchas_page_shows_the_fix_in_a_visible_verdict() -> None:
    pair = next(p for p in LIBRARY.pairs if p.id.endswith("in-place-update")
                and p.jax.expect.outcome == "TypeError")
    at = open_page("gotchas.py")
    at.get("button_group")[0].set_value(pair.section).run()
    at.session_state[f"code::{pair.jax.id}"] = (
        "import jax.numpy as jnp\n\nx = jnp.array([1, 2, 3])\nx = x.at[0].set(10)\nprint(x)\n")
    at.button(key=f"run-both::{pair.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    verdicts = [s.value for s in at.success if s.value.startswith("**Verdict:**")]
    assert len(verdicts) == 1 and "fixed\\: the JAX side now runs" in verdicts[0], verdicts


def test_a_pair_running_again_shows_no_old_results_under_its_live_panel() -> None:
    pair = next(p for p in LIBRARY.pairs if p.id.endswith("in-place-update")
                and p.jax.expect.outcome == "TypeError")
    at = open_page("gotchas.py")
    at.get("button_group")[0].set_value(pair.section).run()
    at.button(key=f"run-both::{pair.id}").click().run()
    assert any(s.value.startswith("**Verdict:**") for kind in ("success", "warning", "info")
               for s in getattr(at, kind)), "the first run of both sides drew no verdict"
    # Run again with a JAX side that takes a while, without waiting in place: the live panel
    # is drawn, and neither the old verdict nor the old results sit under it.
    at.session_state[WAIT_IN_PLACE] = False
    at.session_state[f"code::{pair.jax.id}"] = "import time\ntime.sleep(20)\n"
    at.button(key=f"run-both::{pair.id}").click().run()
    shown = [e.value for kind in ("success", "warning", "info", "error") for e in getattr(at, kind)]
    assert not [s for s in shown if str(s).startswith("**Verdict:**")], shown
    assert not [s for s in shown if "Your code raised" in str(s)], shown
    assert at.button(key=f"stop::{pair.id}"), "no live panel with Stop while the pair runs"
    at.button(key=f"stop::{pair.id}").click().run()
