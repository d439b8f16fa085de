"""The verdict line of a gotcha pair."""

from __future__ import annotations

from types import SimpleNamespace

from app.protocol import ErrorInfo, RunResult
from app.ui.verdict import verdict


def _expects(outcome: str) -> SimpleNamespace:
    return SimpleNamespace(expect=SimpleNamespace(outcome=outcome, describe=lambda: outcome))


def test_numpy_runs_jax_raises_as_expected() -> None:
    line = verdict(RunResult(status="ok", stdout="[10 2 3]\n"),
                   RunResult(status="error", error=ErrorInfo("TypeError", "immutable")),
                   _expects("ok"), _expects("TypeError"))
    assert line == "NumPy ran; JAX raised TypeError, as expected."


def test_surprise_is_named() -> None:
    line = verdict(RunResult(status="ok"), RunResult(status="ok"), _expects("ok"),
                   _expects("TypeError"))
    assert "not as the guide says" in line and "JAX was expected to give TypeError" in line


def test_same_and_different_output() -> None:
    same = verdict(RunResult(status="ok", stdout="1\n"), RunResult(status="ok", stdout="1\n"))
    different = verdict(RunResult(status="ok", stdout="1\n"), RunResult(status="ok", stdout="2\n"))
    assert "same output" in same
    assert "different output" in different


def test_timeout_is_described_not_called_an_exception() -> None:
    line = verdict(RunResult(status="ok"), RunResult(status="timeout"))
    assert "JAX: time limit reached" in line
