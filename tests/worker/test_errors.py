"""Invalid stacks end in the real JAX error plus one sentence of advice, in inspect.error."""

from __future__ import annotations

from app.protocol import InspectRequest, RunRequest
from app.worker.execute import execute

from .helpers import PRELUDE, inspect, steps


def test_grad_of_a_non_scalar_suggests_sum_or_jacrev() -> None:
    code = "def double(x):\n    return 2 * x\n"
    error = inspect(code, "double", "(jnp.ones(3),)", steps("grad")).result.error
    assert error is not None and error.type == "TypeError"
    assert "Gradient only defined for scalar-output functions" in error.message
    assert "jnp.sum" in error.advice and "jacrev" in error.advice


def test_vmap_over_an_unbatched_argument_suggests_in_axes_none() -> None:
    code = "def scale(w, x):\n    return w * x\n"
    error = inspect(code, "scale", "(2.0, jnp.ones(3))", steps("vmap")).result.error
    assert error is not None and error.type == "ValueError"
    assert "vmap was requested to map its argument along axis 0" in error.message
    assert "in_axes None" in error.advice


def test_vmap_with_inconsistent_sizes_gets_the_same_advice() -> None:
    code = "def add(a, b):\n    return a + b\n"
    error = inspect(code, "add", "(jnp.ones(3), jnp.ones(4))", steps("vmap")).result.error
    assert error is not None and "inconsistent sizes" in error.message
    assert "in_axes None" in error.advice


def test_pmap_over_more_items_than_devices_says_the_device_count() -> None:
    code = "def inc(x):\n    return x + 1\n"
    error = inspect(code, "inc", "(jnp.ones(16),)", steps("pmap")).result.error
    assert error is not None
    assert "8 devices" in error.advice and "16 items" in error.advice


def test_pmap_of_a_scalar_says_the_device_count() -> None:
    code = "def inc(x):\n    return x + 1\n"
    error = inspect(code, "inc", "(1.0,)", steps("pmap")).result.error
    assert error is not None and "8 devices" in error.advice


def test_python_if_on_a_traced_value_points_to_cond_and_static_argnums() -> None:
    code = "def relu(x):\n    if x > 0:\n        return x\n    return 0.0 * x\n"
    error = inspect(code, "relu", "(1.0,)", steps("jit")).result.error
    assert error is not None and error.type == "TracerBoolConversionError"
    assert error.line == 5  # the user's `if`, PRELUDE is three lines
    assert "lax.cond" in error.advice and "static_argnums" in error.advice


def test_range_of_a_traced_value_gets_the_same_advice() -> None:
    code = "def tri(n):\n    return sum(range(n))\n"
    error = inspect(code, "tri", "(4,)", steps("jit")).result.error
    assert error is not None and "static_argnums" in error.advice


def test_numpy_on_a_tracer_suggests_jax_numpy() -> None:
    code = "def s(x):\n    return np.sin(x)\n"
    error = inspect(code, "s", "(1.0,)", steps("jit")).result.error
    assert error is not None and error.type == "TracerArrayConversionError"
    assert "jax.numpy" in error.advice


def test_grad_of_an_integer_input_suggests_floats() -> None:
    code = "def sq(x):\n    return x * x\n"
    error = inspect(code, "sq", "(3,)", steps("grad")).result.error
    assert error is not None and "1.0" in error.advice


def test_unknown_function_inspects_the_last_function_defined_with_a_notice() -> None:
    code = "def loss(x):\n    return x\n\ndef double(x):\n    return 2 * x\n"
    result = inspect(code, "f", "(1.0,)", steps("jit")).result
    assert result.error is None, result.error
    assert result.expression == "jax.jit(double)"
    assert result.notice and "'f'" in result.notice and "'double'" in result.notice
    assert "loss" in result.notice and result.output_repr is not None


def test_code_without_functions_gets_a_notice_and_no_error() -> None:
    result = inspect("y = 1 + 1\n", "f", "(x,)", steps("jit")).result
    assert result.error is None and result.output_repr is None
    assert result.notice and "no function" in result.notice and "'f'" in result.notice


def test_broken_args_expression_is_a_notice_about_the_setting() -> None:
    code = "def loss(x):\n    return x\n"
    result = inspect(code, "loss", "(undefined_name,)", steps("jit")).result
    assert result.error is None
    assert result.notice and "undefined_name" in result.notice and "expression" in result.notice


def test_unknown_option_is_a_notice_naming_the_accepted_ones() -> None:
    code = "def loss(x):\n    return x\n"
    result = inspect(code, "loss", "(1.0,)", steps(("jit", {"static_argnum": 0}))).result
    assert result.error is None and result.notice and "static_argnums" in result.notice


def test_inspect_errors_do_not_become_run_errors_and_skip_inspect_after_a_failed_run() -> None:
    bad_stack = RunRequest(PRELUDE + "def f(x):\n    return 2 * x\n",
                           inspect=InspectRequest("f", "(jnp.ones(2),)", steps("grad")))
    report, _ = execute(bad_stack)
    assert report.error is None and report.inspect and report.inspect.error
    failed_run = RunRequest(PRELUDE + "def f(x):\n    return x\nraise ValueError('boom')\n",
                            inspect=InspectRequest("f", "(1.0,)"))
    report, _ = execute(failed_run)
    assert report.error is not None and report.error.type == "ValueError"
    assert report.inspect is None


def _raised(code: str) -> BaseException:
    try:
        exec(compile(code, "<snippet>", "exec"), {})
    except BaseException as exc:  # the exception is the subject of the test
        return exc
    raise AssertionError("the code raised nothing")


def test_sandbox_refusals_say_why_and_ordinary_errors_do_not() -> None:
    from app.worker.errors import sandbox_advice

    assert "no network" in str(sandbox_advice(_raised(
        "import socket\nsocket.getaddrinfo('nothing.invalid', 80)\n")))
    assert "Only the run's own folder is writable" in str(sandbox_advice(
        PermissionError(13, "Permission denied", "/usr/lib/evil")))
    assert "PLAYGROUND_MAX_PIDS" in str(sandbox_advice(BlockingIOError(11, "Resource unavailable")))
    assert "PLAYGROUND_MAX_PIDS" in str(sandbox_advice(RuntimeError("can't start new thread")))
    assert sandbox_advice(_raised("open('/no/such/file')\n")) is None
    assert sandbox_advice(_raised("1 / 0\n")) is None


def test_the_advice_reaches_the_report() -> None:
    code = "x = 1\nraise PermissionError(13, 'Permission denied', '/usr/lib/evil')\n"
    report, _ = execute(RunRequest(code=code))
    assert report.error is not None and report.error.line == 2
    assert "writable" in str(report.error.advice)
