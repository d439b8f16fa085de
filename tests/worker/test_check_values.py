"""What an exercise's check accepts as a result, and how it calls the person's functions, in
process (execute, as the child runs it). Stand-ins that claim to equal anything are refused
before any of their own methods runs; call() compiles once per shape and dtype and gives what a
direct call gives where a function does not compile."""

from __future__ import annotations

import pytest

from app.protocol import RunRequest
from app.worker.execute import execute

STAND_INS = {
    "an object array of always-equal elements": (
        "class E:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
        "def f():\n    a = np.empty(3, dtype=object)\n    a[:] = [E(), E(), E()]\n    return a\n"),
    "an object with __array__": (
        "class A:\n    def __array__(self, dtype=None, copy=None):\n"
        "        return np.array([1.0, 2.0, 3.0])\ndef f():\n    return A()\n"),
    "a numpy array subclass": (
        "class S(np.ndarray):\n    pass\n"
        "def f():\n    return np.array([1.0, 2.0, 3.0]).view(S)\n"),
    "a float subclass": (
        "class F(float):\n    def __eq__(self, o):\n        return True\n"
        "    __hash__ = float.__hash__\ndef f():\n    return F(1.0)\n"),
    "booleans for numbers": "def f():\n    return jnp.array([True, True, True])\n",
    "a string": "def f():\n    return '[1. 2. 3.]'\n",
}
PRELUDE = "import jax\nimport jax.numpy as jnp\nimport numpy as np\n"
CLOSE = 'with case("f()"):\n    expect_close(user.f(), np.array([1.0, 2.0, 3.0]), "f()")\n'


def check(code: str, check_code: str):
    report, _ = execute(RunRequest(PRELUDE + code, check=check_code))
    assert report.error is None, report.error
    assert report.check is not None
    return report.check


@pytest.mark.parametrize("code", STAND_INS.values(), ids=list(STAND_INS))
def test_expect_close_refuses_what_is_not_a_real_array(code: str) -> None:
    result = check(code, CLOSE)
    assert not result.passed and result.case == "f()"
    assert "should" in result.message


def test_expect_close_names_the_type_without_calling_its_repr() -> None:
    code = ("class R:\n    def __repr__(self):\n        raise SystemExit('repr ran')\n"
            "def f():\n    return R()\n")
    result = check(code, CLOSE)
    assert result.message == ("f() should be a JAX array or a number, but it is a "
                              "__main__.R.")


@pytest.mark.parametrize("value", ["jnp.array([1.0, 2.0, 3.0])", "np.array([1, 2, 3])",
                                   "jnp.array([1.0, 2.0, 3.0], jnp.bfloat16)",
                                   "np.array([1.0, 2.0, 3.0], np.float32)"])
def test_expect_close_accepts_real_arrays(value: str) -> None:
    assert check(f"def f():\n    return {value}\n", CLOSE).passed


def test_expect_close_accepts_numbers_for_a_scalar() -> None:
    check_code = 'with case("g"):\n    expect_close(user.g(), 3.0)\n'
    for value in ("3.0", "3", "np.float32(3.0)", "jnp.float32(3.0)"):
        assert check(f"def g():\n    return {value}\n", check_code).passed, value


def test_expect_equal_uses_the_checks_own_comparison() -> None:
    check_code = 'with case("n"):\n    expect_equal(user.n(), 16, "n()")\n'
    forged = ("class E:\n    def __eq__(self, o):\n        return True\n"
              "    __hash__ = object.__hash__\ndef n():\n    return E()\n")
    result = check(forged, check_code)
    assert not result.passed and "but it is a __main__.E" in result.message
    assert check("def n():\n    return jnp.int32(16)\n", check_code).passed
    assert not check("def n():\n    return 15\n", check_code).passed


def test_expect_shape_and_dtype_read_the_converted_array() -> None:
    check_code = ('with case("s"):\n    expect_shape(user.f(), (2,))\n'
                  '    expect_dtype(user.f(), np.float32)\n')
    forged = ("class Fake:\n    shape = (2,)\n    dtype = np.dtype('float32')\n"
              "def f():\n    return Fake()\n")
    assert not check(forged, check_code).passed
    assert check("def f():\n    return jnp.zeros(2)\n", check_code).passed


COUNTED = '''
x, longer = jnp.arange(4.0), jnp.arange(5.0)
with case("call compiles once per shape and dtype, and jit_ok reuses it"):
    first = count_traces(lambda: call(user.f, x))
    again = count_traces(lambda: [call(user.f, x + i) for i in range(3)])
    jitted = count_traces(lambda: jit_ok(user.f, x))
    other = count_traces(lambda: call(user.f, longer))
    expect(first == 1 and again == 0 and jitted == 0 and other == 1,
           f"traces: {first}, {again}, {jitted}, {other}")
    expect_close(call(user.f, x), np.arange(4.0) * 2 + 1)
'''


def test_call_compiles_once_per_shape_and_dtype() -> None:
    result = check("def f(v):\n    return v * 2 + 1\n", COUNTED)
    assert result.passed, result.message


def test_call_gives_what_a_direct_call_gives_where_the_function_does_not_compile() -> None:
    check_code = ('with case("boolean indexing"):\n'
                  '    expect_close(call(user.f, jnp.array([1.0, jnp.nan, 2.0])), 3.0)\n'
                  'with case("an error"):\n'
                  '    call(user.g, jnp.ones(2))\n')
    code = ("def f(v):\n    return jnp.sum(v[~jnp.isnan(v)])\n"
            "def g(v):\n    raise ValueError('from g')\n")
    result = check(code, check_code)
    assert result.passed_cases == ["boolean indexing"]
    assert result.case == "an error" and "ValueError" in result.message
    assert "from g" in result.message


def test_call_passes_python_ints_and_strings_as_they_are() -> None:
    check_code = ('with case("n is a Python int"):\n'
                  '    expect_close(call(user.f, jnp.ones(2), 3, "sum"), 6.0)\n')
    code = ("def f(v, n, how):\n    assert type(n) is int and how == 'sum'\n"
            "    return jnp.sum(jnp.tile(v, n))\n")
    assert check(code, check_code).passed
