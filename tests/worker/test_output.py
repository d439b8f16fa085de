"""stdout order (prints while tracing, jax.debug.print), the effects barrier, x64 per run."""

from __future__ import annotations

import pytest

from app.protocol import RunRequest
from app.worker.execute import execute

from .helpers import PRELUDE, inspect, steps

TRACED = (
    "@jax.jit\n"
    "def f(x):\n"
    "    print('tracing f')\n"
    "    jax.debug.print('debug x={x}', x=x)\n"
    "    return x * 2\n"
)


def _run(code: str, **options: object) -> object:
    report, _ = execute(RunRequest(PRELUDE + code, **options))  # type: ignore[arg-type]
    assert report.error is None, report.error
    return report


def test_trace_prints_and_debug_prints_arrive_in_order(capfd: pytest.CaptureFixture[str]) -> None:
    _run("print('before')\n" + TRACED +
         "f(jnp.float32(1.0)).block_until_ready()\nprint('after')\n"
         "f(jnp.float32(2.0)).block_until_ready()\nprint('end')\n")
    lines = capfd.readouterr().out.splitlines()
    # Tracing happens once; the debug print runs on every call.
    assert lines == ["before", "tracing f", "debug x=1.0", "after", "debug x=2.0", "end"]


def test_no_debug_print_is_lost_at_the_end_of_the_run(capfd: pytest.CaptureFixture[str]) -> None:
    _run(TRACED + "for i in range(5):\n    f(jnp.float32(i))\n")
    out = capfd.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("debug")] == [
        f"debug x={i}.0" for i in range(5)]


def test_matmul_feeding_a_debug_print_compiles(capfd: pytest.CaptureFixture[str]) -> None:
    # The CPU compiler bug (docs/architecture.md; 64x64 and up): the runner's XLA flag avoids it.
    _run("@jax.jit\ndef g(a):\n    y = a @ a\n    jax.debug.print('s={s}', s=y.sum())\n"
         "    return y\ng(jnp.ones((64, 64)))\n")
    assert "s=262144.0" in capfd.readouterr().out


def test_inspect_output_appears_once_however_many_timed_repeats(
        capfd: pytest.CaptureFixture[str]) -> None:
    code = "def f(x):\n    print('tracing f')\n    jax.debug.print('debug {x}', x=x)\n" \
           "    return x + 1\n"
    done = inspect(code, "f", "(jnp.float32(1.0),)", steps("jit"), timings=True,
                   compare_unjitted=True, views=["jaxpr", "stablehlo"])
    assert done.result.timings.steady.count * done.result.timings.steady.calls_per_sample > 1
    out = capfd.readouterr().out
    assert out.count("tracing f") == 1 and out.count("debug 1.0") == 1


def test_x64_is_a_per_run_switch() -> None:
    report = _run("jnp.ones(2).dtype", x64=True)
    assert report.value_repr == "dtype('float64')"
    report = _run("jnp.ones(2).dtype")
    assert report.value_repr == "dtype('float32')"


def test_x64_applies_to_the_inspect_step() -> None:
    done = inspect("def f(x):\n    return x * 2\n", "f", "(jnp.arange(3.0),)", steps("jit"),
                   views=["shapes"], x64=True)
    assert done.result.out_shapes == ["out: f64[3]"]
