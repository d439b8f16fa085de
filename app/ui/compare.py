"""The Transform Lab's one-line comparison of two stacks' steady-state times."""

from __future__ import annotations

import math

from app.protocol import RunResult

# Closer than this, two medians measured on a shared host are "about the same".
SAME_WITHIN = 1.10


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def steady_s(result: RunResult) -> float | None:
    """The steady-state median of the transformed function, if the run measured one."""
    if result.status != "ok" or not result.inspect or result.inspect.error:
        return None
    timings = result.inspect.timings
    median = timings.steady.median_s if timings and timings.steady else None
    if not isinstance(median, int | float) or not math.isfinite(median) or median <= 0:
        return None
    return float(median)


def _why_not(name: str, result: RunResult) -> str:
    if result.status == "error":
        return f"{name}'s code raised an exception"
    if result.status != "ok":
        return f"{name} did not finish ({result.status.replace('_', ' ')})"
    if result.inspect and result.inspect.error:
        return f"{name}'s transformed function raised an exception"
    return f"{name} has no steady-state time"


def ratio_text(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def steady_comparison(a: RunResult, b: RunResult) -> str:
    """E.g. "A's steady state is 83x faster than B's (0.0123 ms against 1.02 ms per call)."""
    a_s, b_s = steady_s(a), steady_s(b)
    if a_s is None or b_s is None:
        reasons = [_why_not(name, r) for name, r, s in (("A", a, a_s), ("B", b, b_s)) if s is None]
        return f"No steady-state comparison: {' and '.join(reasons)}."
    ratio = max(a_s, b_s) / min(a_s, b_s)
    if ratio < SAME_WITHIN:
        return (f"A's and B's steady states are about the same ({_ms(a_s)} and {_ms(b_s)} "
                "per call).")
    fast, slow = ("A", "B") if a_s < b_s else ("B", "A")
    return (f"{fast}'s steady state is {ratio_text(ratio)} faster than {slow}'s "
            f"({_ms(min(a_s, b_s))} against {_ms(max(a_s, b_s))} per call).")
