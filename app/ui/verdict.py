"""One line on how the NumPy and JAX sides of a gotcha pair behaved, next to what was expected."""

from __future__ import annotations

from typing import Any

from app.protocol import RunResult
from app.ui.messages import status_message


def outcome(result: RunResult) -> str:
    """'ok', an exception name, or the status for runs that did not finish."""
    if result.status == "ok":
        return "ok"
    if result.status == "error" and result.error:
        return result.error.type
    return result.status


def _describe(side: str, result: RunResult) -> str:
    got = outcome(result)
    if got == "ok":
        return f"{side} ran"
    if result.status == "error":
        return f"{side} raised {got}"
    return f"{side}: {status_message(result).headline.rstrip('.').lower()}"


def _shown(result: RunResult) -> str:
    return (result.stdout or "") + "\x00" + (result.value_repr or "")


def verdict(numpy_result: RunResult, jax_result: RunResult, numpy_snippet: Any = None,
            jax_snippet: Any = None) -> str:
    """E.g. 'NumPy ran; JAX raised TypeError, as the guide says.'"""
    both_ok = numpy_result.status == jax_result.status == "ok"
    if both_ok:
        same = _shown(numpy_result) == _shown(jax_result)
        line = ("Both ran and showed the same output" if same
                else "Both ran, with different output: compare the two sides")
    else:
        line = f"{_describe('NumPy', numpy_result)}; {_describe('JAX', jax_result)}"
    surprises = [
        f"{side} was expected to give {snippet.expect.describe()}"
        for side, snippet, result in (("NumPy", numpy_snippet, numpy_result),
                                      ("JAX", jax_snippet, jax_result))
        if snippet is not None and getattr(snippet, "expect", None) is not None
        and outcome(result) != snippet.expect.outcome
    ]
    if surprises:
        return f"{line} — not as the guide says: {'; '.join(surprises)}."
    if numpy_snippet is not None and jax_snippet is not None:
        return f"{line}, as expected."
    return f"{line}."
