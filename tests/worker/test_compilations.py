"""How many times each jitted function compiled during the run, and JAX's own reason why."""

from __future__ import annotations

import logging

import pytest

from app.protocol import Compilation, RunRequest
from app.worker.execute import execute

from .helpers import PRELUDE, inspect, steps


def _compilations(code: str) -> dict[str, Compilation]:
    report, _ = execute(RunRequest(PRELUDE + code))
    assert report.error is None, report.error
    return {c.function: c for c in report.compilations}


def test_shape_change_recompiles_with_the_reason() -> None:
    code = ("@jax.jit\ndef double(x):\n    return 2 * x\n"
            "double(jnp.ones(3))\ndouble(jnp.ones(3))\ndouble(jnp.ones(4))\n")
    found = _compilations(code)["double (line 4)"]
    assert found.count == 2  # the second call with f32[3] hit the cache
    assert found.reasons[0] == "first compilation"
    assert found.reasons[1].startswith("shape changed:")
    assert "now f32[4] and before f32[3]" in found.reasons[1]


def test_dtype_change_recompiles_with_the_reason() -> None:
    code = ("@jax.jit\ndef double(x):\n    return 2 * x\n"
            "double(jnp.ones(3))\ndouble(jnp.ones(3, jnp.int32))\n")
    found = _compilations(code)["double (line 4)"]
    assert found.count == 2
    assert found.reasons[1].startswith("dtype changed:") and "i32[3]" in found.reasons[1]


def test_static_argument_change_recompiles_with_the_reason() -> None:
    code = ("from functools import partial\n"
            "@partial(jax.jit, static_argnums=1)\ndef power(x, n):\n    return x ** n\n"
            "power(2.0, 2)\npower(3.0, 2)\npower(2.0, 3)\n")
    found = _compilations(code)["power (line 5)"]  # JAX names the decorator's line
    assert found.count == 2
    assert found.reasons[1].startswith("static argument changed")
    if "no further detail" not in found.reasons[1]:  # jax 0.11 explains no static change
        assert "now Static(val=3) and before Static(val=2)" in found.reasons[1]


def test_weak_type_change_recompiles_with_the_reason() -> None:
    code = ("@jax.jit\ndef double(x):\n    return 2 * x\n"
            "double(jnp.float32(1.0))\ndouble(1.0)\n")
    found = _compilations(code)["double (line 4)"]
    assert found.count == 2 and found.reasons[1].startswith("weak type changed:")


def test_jit_recreated_in_a_loop_is_explained() -> None:
    code = "for i in range(3):\n    jax.jit(lambda x: x + 1)(1.0)\n"
    found = _compilations(code)["<lambda> (line 5)"]
    assert found.count == 3
    assert "re-created" in found.reasons[1] and "re-created" in found.reasons[2]


def test_two_functions_are_counted_apart_and_eager_ops_are_not_listed() -> None:
    code = ("f = jax.jit(lambda x: x * 2)\ng = jax.jit(lambda x: x - 1)\n"
            "f(jnp.ones(2)); g(jnp.ones(2)); g(jnp.ones(5))\ny = jnp.ones(3) + 1\n")
    found = _compilations(code)
    assert {name: c.count for name, c in found.items()} == {
        "<lambda> (line 4)": 1, "<lambda> (line 5)": 2}


def test_compile_logs_stay_out_of_stderr_but_other_jax_logs_do_not(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    code = ("import logging\n@jax.jit\ndef double(x):\n    return 2 * x\n"
            "double(jnp.ones(3))\ndouble(jnp.ones(4))\n"
            "logging.getLogger('jax._src.somewhere').warning('a real JAX warning')\n")
    _compilations(code)
    out, err = capfd.readouterr()
    assert "TRACING CACHE MISS" not in err + out and "Compiling" not in err + out
    # Other JAX records still reach the root logger's handlers (pytest's here, stderr in a run).
    assert [r.getMessage() for r in caplog.records] == ["a real JAX warning"]
    assert logging.getLogger("jax").propagate  # restored after the run


def test_jax_flags_are_restored_after_the_run() -> None:
    import jax

    _compilations("jax.jit(lambda x: x)(1.0)\n")
    assert not jax.config.jax_log_compiles and not jax.config.jax_explain_cache_misses


def test_inspect_reports_the_first_call_compilations_of_its_stack() -> None:
    done = inspect("def f(x):\n    return x * 3\n", "f", "(jnp.ones(2),)",
                   steps("vmap", "jit"), timings=True)
    assert [(c.function, c.count) for c in done.result.compilations] == [("f (line 4)", 1)]


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("jax._src.x", logging.WARNING, __file__, 1, message, None, None)


def test_reasons_when_jax_gives_no_explanation() -> None:
    # jax 0.11.2 (seen on the GPU machine) logs this for a changed static argument.
    from app.worker.compile_log import CompileRecorder

    recorder = CompileRecorder()
    compiling = ("Compiling jit(power) with global shapes and types ({}). "
                 "Argument mapping: (UnspecifiedValue,).")
    unavailable = ("TRACING CACHE MISS at <snippet>:9 (<module>):\n  for power defined at "
                   "<snippet>:5\n  all previously seen cache keys differ. For the closest "
                   "previous key:\n  cache miss explanation unavailable")
    recorder.emit(_record("TRACING CACHE MISS at <snippet>:8 (<module>):\n  never seen "
                          "function:\n    power id=1 defined at <snippet>:5"))
    recorder.emit(_record(compiling.format("ShapedArray(float32[])")))
    recorder.emit(_record(unavailable))
    recorder.emit(_record(compiling.format("ShapedArray(float32[])")))
    recorder.emit(_record(unavailable))
    recorder.emit(_record(compiling.format("ShapedArray(float32[3])")))
    (found,) = recorder.compilations()
    assert found.function == "power (line 5)" and found.count == 3
    assert found.reasons[0] == "first compilation"
    assert found.reasons[1].startswith("static argument changed")
    assert found.reasons[2] == ("inputs changed: now (ShapedArray(float32[3])) and before "
                                "(ShapedArray(float32[]))")
