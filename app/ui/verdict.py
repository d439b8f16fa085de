"""The verdict of a gotcha pair: how the NumPy and JAX sides behaved, what differs between them,
and whether that is what the guide says (or that the person fixed a side by editing it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.protocol import RunResult
from app.ui.messages import status_message
from app.ui.plain import bounded

Tone = Literal["success", "warning", "info"]
SHOWN_CHARS = 80  # of a differing line, in the verdict sentence


@dataclass(frozen=True)
class Verdict:
    tone: Tone
    text: str  # plain text (it names exceptions and quotes output): shown escaped
    difference: str | None = None  # the two sides' differing lines, for a code block


def outcome(result: RunResult) -> str:
    """'ok', an exception name, or the status for runs that did not finish."""
    if result.status == "ok":
        return "ok"
    if result.status == "error" and result.error:
        return str(result.error.type)
    return result.status


def _describe(side: str, result: RunResult) -> str:
    got = outcome(result)
    if got == "ok":
        return f"{side} ran"
    if result.status == "error":
        return f"{side} raised {got}"
    return f"{side}: {status_message(result).headline.rstrip('.').lower()}"


def _first_difference(numpy_text: str, jax_text: str) -> tuple[int, str, str] | None:
    """(1-based line, NumPy's line, JAX's line) where the two texts first differ."""
    numpy_lines, jax_lines = numpy_text.splitlines(), jax_text.splitlines()
    for index in range(max(len(numpy_lines), len(jax_lines))):
        left = numpy_lines[index] if index < len(numpy_lines) else None
        right = jax_lines[index] if index < len(jax_lines) else None
        if left != right:
            return index + 1, left or "", right or ""
    return None


def _quote(text: str) -> str:
    return f"“{bounded(text.strip(), SHOWN_CHARS)}”" if text.strip() else "nothing"


def _both_ran(numpy_result: RunResult, jax_result: RunResult) -> tuple[str, str | None]:
    """The sentence for two finished runs, and the differing lines for a code block."""
    printed = _first_difference(numpy_result.stdout or "", jax_result.stdout or "")
    if printed is not None:
        line, left, right = printed
        return (f"Both ran; their printed output differs first at line {line}: NumPy printed "
                f"{_quote(left)}, JAX printed {_quote(right)}",
                f"NumPy: {bounded(left, 500)}\nJAX:   {bounded(right, 500)}")
    numpy_value, jax_value = numpy_result.value_repr, jax_result.value_repr
    if (numpy_value or "") != (jax_value or ""):
        return (f"Both ran and printed the same; the value of the last line differs: NumPy "
                f"{_quote(numpy_value or '')}, JAX {_quote(jax_value or '')}",
                f"NumPy: {bounded(numpy_value or '', 500)}\nJAX:   {bounded(jax_value or '', 500)}")
    return "Both ran and showed the same output", None


def _edited(snippet: Any, code: str | None) -> bool:
    return code is not None and snippet is not None and code != getattr(snippet, "code", code)


def verdict(numpy_result: RunResult, jax_result: RunResult, numpy_snippet: Any = None,
            jax_snippet: Any = None, numpy_code: str | None = None,
            jax_code: str | None = None) -> Verdict:
    """E.g. 'NumPy ran; JAX raised TypeError, as expected.' *_code: the code each side ran (to
    tell an edit that changed the outcome from a guide that is wrong)."""
    difference = None
    if numpy_result.status == jax_result.status == "ok":
        line, difference = _both_ran(numpy_result, jax_result)
    else:
        line = f"{_describe('NumPy', numpy_result)}; {_describe('JAX', jax_result)}"
    surprises, fixed, edits = [], [], []
    for side, snippet, result, code in (("NumPy", numpy_snippet, numpy_result, numpy_code),
                                        ("JAX", jax_snippet, jax_result, jax_code)):
        expect = getattr(snippet, "expect", None) if snippet is not None else None
        if expect is None or outcome(result) == expect.outcome:
            continue
        if not _edited(snippet, code):
            surprises.append(f"{side} was expected to give {expect.describe()}")
        elif expect.outcome != "ok" and result.status == "ok":
            fixed.append(f"fixed: the {side} side now runs")
        else:
            edits.append(f"your edited {side} side gives {outcome(result)}, the guide's code "
                         f"gives {expect.outcome}")
    if surprises:
        return Verdict("warning", f"{line} — not as the guide says: {'; '.join(surprises)}.",
                       difference)
    if fixed or edits:
        tone: Tone = "success" if fixed and not edits else "info"
        return Verdict(tone, f"{line} — {'; '.join(fixed + edits)}.", difference)
    if numpy_snippet is not None and jax_snippet is not None:
        return Verdict("success", f"{line}, as expected.", difference)
    return Verdict("info", f"{line}.", difference)
