"""An exercise's check after the person's code, in the same process (execute, as the child runs
it): pass, the failing case and why, the person's code failing first. Code that tampers with
what the check relies on is tested through the sandbox (tests/exercises/test_check_guard.py):
here it would patch this very process."""

from __future__ import annotations

from app.protocol import CHECK_MESSAGE_CHARS, RunRequest
from app.worker.execute import execute

CHECK = '''
with case("double(2) is 4"):
    expect_close(user.double(jnp.float32(2.0)), 4.0, "double(2)")
with case("double under jax.jit"):
    expect_close(jit_ok(user.double, jnp.arange(3.0)), np.arange(3.0) * 2, "jax.jit(double)")
'''


def check(code: str, check_code: str = CHECK):
    report, _ = execute(RunRequest(code, check=check_code))
    assert report.check is not None
    return report.check


def test_passing_code_passes_every_case() -> None:
    result = check("def double(x):\n    return 2 * x\n")
    assert result.passed and result.passed_cases == ["double(2) is 4", "double under jax.jit"]


def test_the_first_failing_case_is_named_with_the_values() -> None:
    result = check("def double(x):\n    return x + 2\n")
    assert not result.passed and result.case == "double under jax.jit"
    assert result.message == "jax.jit(double) should be [0. 2. 4.], but it is [2. 3. 4.]."
    assert result.passed_cases == ["double(2) is 4"]


def test_a_jax_error_in_a_case_gets_advice() -> None:
    code = "def double(x):\n    if x.sum() > 100:\n        return x\n    return 2 * x\n"
    result = check(code)
    assert result.case == "double under jax.jit"
    assert result.error_type == "TracerBoolConversionError"
    assert "your line 2" in result.message and "jnp.where or jax.lax.cond" in result.message


def test_a_missing_name_says_what_to_define() -> None:
    result = check("def triple(x):\n    return 3 * x\n")
    assert result.case == "double(2) is 4"
    assert "does not define `double`" in result.message


def test_code_that_raises_before_the_check_is_reported_as_such() -> None:
    report, _ = execute(RunRequest("raise ValueError('nope')", check=CHECK))
    assert report.error is not None and report.check is not None
    assert report.check.case == "your code runs to the end"
    assert "ValueError on line 1" in report.check.message


def test_messages_are_capped() -> None:
    long_check = 'with case("c"):\n    expect(False, "m" * 10000)\n'
    result = check("x = 1", long_check)
    assert len(result.message) == CHECK_MESSAGE_CHARS


def test_a_run_without_a_check_reports_none() -> None:
    report, _ = execute(RunRequest("x = 1"))
    assert report.check is None
