"""Steady-state timing that can be trusted: every call blocked on its whole output pytree.

Like timeit's autorange, the number of calls per sample grows until one sample takes long enough
for the clock to be accurate, then samples are taken until the time budget is spent.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from app.protocol import StepTiming

SAMPLE_TARGET_S = 0.005  # one sample lasts at least this long: perf_counter jitter is ~µs
BUDGET_S = 1.0  # per measured variant (jitted, un-jitted, NumPy)
MIN_SAMPLES = 3
MAX_SAMPLES = 200


def block(value: Any) -> Any:
    """Wait for every array in the pytree; NumPy and Python values are already there."""
    import jax

    return jax.block_until_ready(value)


def time_call(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = block(call())
    return time.perf_counter() - start, out


def _sample(call: Callable[..., Any], make_args: Callable[[], tuple[Any, ...]],
            calls: int) -> float:
    # Arguments are made before the clock starts (fresh copies only when the call donates them).
    prepared = [make_args() for _ in range(calls)]
    start = time.perf_counter()
    for args in prepared:
        block(call(*args))
    return (time.perf_counter() - start) / calls


def steady_state(call: Callable[..., Any], make_args: Callable[[], tuple[Any, ...]],
                 budget_s: float = BUDGET_S, warm: bool = False) -> StepTiming:
    """Median, min and spread of per-call time over repeated samples; `warm` skips the warm-up."""
    if not warm:
        block(call(*make_args()))  # the first call may trace and compile: never part of it
    deadline = time.perf_counter() + budget_s
    calls = 1
    first = _sample(call, make_args, calls)
    # Autorange: 1, 2, 5, 10, 20, 50... calls per sample until one sample is long enough.
    while first * calls < SAMPLE_TARGET_S and time.perf_counter() < deadline:
        calls = _next_count(calls)
        first = _sample(call, make_args, calls)
    samples = [first]
    while len(samples) < MAX_SAMPLES and (
        time.perf_counter() < deadline or len(samples) < MIN_SAMPLES
    ):
        if first * calls > budget_s and len(samples) >= 1:
            break  # one call is longer than the whole budget: one sample is all we can afford
        samples.append(_sample(call, make_args, calls))
    return StepTiming(
        median_s=statistics.median(samples),
        min_s=min(samples),
        spread_s=max(samples) - min(samples),
        count=len(samples),
        calls_per_sample=calls,
    )


def _next_count(calls: int) -> int:
    digits = 10 ** (len(str(calls)) - 1)
    for step in (1, 2, 5, 10):
        if step * digits > calls:
            return step * digits
    return calls * 2  # pragma: no cover - the loop always returns
