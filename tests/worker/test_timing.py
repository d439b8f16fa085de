"""Timing structure: autorange, sample counts, budgets, and every timing of an inspect."""

from __future__ import annotations

import time

from app.worker import timing

from .helpers import inspect, steps


def test_autorange_counts_go_1_2_5_10() -> None:
    counts = [1]
    while counts[-1] < 1000:
        counts.append(timing._next_count(counts[-1]))
    assert counts == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


def test_fast_calls_are_grouped_into_samples() -> None:
    result = timing.steady_state(lambda: 1 + 1, lambda: (), budget_s=0.05)
    assert result.calls_per_sample > 1
    assert result.count >= timing.MIN_SAMPLES
    assert result.min_s <= result.median_s
    assert result.spread_s >= 0


def test_slow_calls_are_one_per_sample_with_at_least_three_samples() -> None:
    result = timing.steady_state(lambda: time.sleep(0.006), lambda: (), budget_s=0.2)
    assert result.calls_per_sample == 1  # 6 ms is already past the 5 ms sample target
    assert result.count >= timing.MIN_SAMPLES
    assert result.min_s >= 0.006


def test_a_call_longer_than_the_budget_is_sampled_once() -> None:
    result = timing.steady_state(lambda: time.sleep(0.03), lambda: (), budget_s=0.01)
    assert result.count == 1 and result.min_s == result.median_s >= 0.03


def test_every_call_is_blocked_on_its_whole_output() -> None:
    blocked: list[str] = []

    class Pending:
        def __init__(self, name: str) -> None:
            self.name = name

        def block_until_ready(self) -> Pending:
            blocked.append(self.name)
            return self

    timing.steady_state(lambda: {"a": Pending("a"), "b": [Pending("b")]}, lambda: (),
                        budget_s=0.0)
    assert blocked.count("a") == blocked.count("b") >= 2  # warm-up + samples


def test_inspect_timings_are_all_filled() -> None:
    code = ("def predict(w, x):\n    return jnp.tanh(x @ w).sum()\n"
            "def predict_np(w, x):\n    return np.tanh(x @ w).sum()\n")
    done = inspect(code, "predict", "(jnp.ones((32, 8)), jnp.ones((16, 32)))",
                   steps("grad", "jit"), timings=True, compare_unjitted=True,
                   numpy_function="predict_np")
    timings = done.result.timings
    assert done.result.error is None and timings is not None
    for seconds in (timings.trace_lower_s, timings.compile_s, timings.first_call_s):
        assert seconds is not None and seconds > 0
    for measured in (timings.steady, timings.unjitted, timings.numpy):
        assert measured is not None and measured.count >= 1
        assert 0 < measured.min_s <= measured.median_s
    assert timings.unjitted is not timings.steady
    assert done.result.warnings == []


def test_without_jit_the_unjitted_time_is_the_steady_time_and_a_note_says_so() -> None:
    done = inspect("def f(x):\n    return x * 2\n", "f", "(jnp.ones(3),)", steps("vmap"),
                   timings=True, compare_unjitted=True)
    timings = done.result.timings
    assert timings.unjitted == timings.steady
    assert any("no jit" in w for w in done.result.warnings)


def test_no_jit_note_only_where_it_is_true() -> None:
    jitted = "@jax.jit\ndef f(x):\n    return x * 2\n"
    done = inspect(jitted, "f", "(jnp.ones(3),)", [], timings=True)
    assert not any("jit" in w for w in done.result.warnings), done.result.warnings
    plain = inspect("def f(x):\n    return x * 2\n", "f", "(jnp.ones(3),)", [], timings=True)
    note = next(w for w in plain.result.warnings if "not jitted" in w)
    assert "stack" not in note and note.startswith("f is not jitted")


def test_missing_numpy_function_is_a_warning_not_an_error() -> None:
    done = inspect("def f(x):\n    return x * 2\n", "f", "(jnp.ones(3),)", steps("jit"),
                   timings=True, numpy_function="nope")
    assert done.result.error is None and done.result.timings.numpy is None
    assert any("'nope'" in w for w in done.result.warnings)
