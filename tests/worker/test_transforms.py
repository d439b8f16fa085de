"""Every transform alone and in compositions, on real functions, against values by hand/NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import inspect, steps

CUBE = "def cube_sum(x):\n    return jnp.sum(x ** 3)\n"
LOSS = "def loss(w, x):\n    return jnp.sum((w * x) ** 2)\n"
X4 = "(jnp.array([1.0, 2.0, 3.0, 4.0]),)"


def test_grad_alone() -> None:
    done = inspect(CUBE, "cube_sum", X4, steps("grad"))
    assert done.result.expression == "jax.grad(cube_sum)"
    np.testing.assert_allclose(done.output, 3 * np.array([1.0, 2.0, 3.0, 4.0]) ** 2)
    assert done.result.output_repr.startswith("Array([ 3., 12., 27., 48.]")


def test_grad_argnums_and_has_aux() -> None:
    code = "def f(a, b):\n    return a * b ** 2, {'b': b}\n"
    done = inspect(code, "f", "(3.0, 2.0)", steps(("grad", {"argnums": 1, "has_aux": True})))
    assert done.result.expression == "jax.grad(f, argnums=1, has_aux=True)"
    gradient, aux = done.output
    assert float(gradient) == pytest.approx(2 * 3.0 * 2.0)  # d/db a b^2 = 2ab
    assert float(aux["b"]) == 2.0


def test_value_and_grad_alone() -> None:
    done = inspect(CUBE, "cube_sum", "(jnp.array([1.0, 2.0]),)", steps("value_and_grad"))
    value, gradient = done.output
    assert float(value) == pytest.approx(9.0)
    np.testing.assert_allclose(gradient, [3.0, 12.0])


def test_jit_alone_and_static_argnums() -> None:
    code = "def power(x, n):\n    for _ in range(n - 1):\n        x = x * x\n    return x\n"
    done = inspect(code, "power", "(jnp.float32(3.0), 3)",
                   steps(("jit", {"static_argnums": [1]})))
    assert done.result.expression == "jax.jit(power, static_argnums=(1,))"
    assert float(done.output) == 81.0  # ((3^2)^2)


def test_jit_donate_argnums_keeps_working_across_repeats() -> None:
    code = "def bump(x):\n    return x + 1.0\n"
    done = inspect(code, "bump", "(jnp.zeros(3),)", steps(("jit", {"donate_argnums": 0})),
                   timings=True)
    assert done.result.error is None
    np.testing.assert_allclose(done.output, [1.0, 1.0, 1.0])
    assert done.result.timings and done.result.timings.steady


def test_vmap_alone_with_in_axes() -> None:
    code = "def scale(w, x):\n    return w * x\n"
    done = inspect(code, "scale", "(jnp.array([1.0, 2.0]), jnp.arange(6.0).reshape(3, 2))",
                   steps(("vmap", {"in_axes": [None, 0]})))
    assert done.result.expression == "jax.vmap(scale, in_axes=(None, 0))"
    np.testing.assert_allclose(done.output, np.array([1.0, 2.0]) * np.arange(6.0).reshape(3, 2))


def test_vmap_out_axes() -> None:
    code = "def pair(x):\n    return jnp.stack([x, 2 * x])\n"
    done = inspect(code, "pair", "(jnp.arange(3.0),)", steps(("vmap", {"out_axes": 1})))
    np.testing.assert_allclose(done.output, [[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]])


def test_pmap_alone_with_axis_name() -> None:
    code = "def share(x):\n    return x / jax.lax.psum(x, 'i')\n"
    done = inspect(code, "share", "(jnp.arange(1.0, 9.0),)", steps(("pmap", {"axis_name": "i"})),
                   views=["devices"])
    np.testing.assert_allclose(done.output, np.arange(1.0, 9.0) / 36.0, rtol=1e-6)
    assert len(done.result.devices) == 8


def test_per_example_gradients_jit_vmap_grad() -> None:
    done = inspect(LOSS, "loss", "(2.0, jnp.arange(6.0).reshape(3, 2))",
                   steps("grad", ("vmap", {"in_axes": [None, 0]}), "jit"))
    assert done.result.expression == "jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))"
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(done.output, 2 * 2.0 * (x**2).sum(axis=1))  # d/dw = 2w sum x^2


def test_vmap_of_grad_without_jit() -> None:
    done = inspect(CUBE, "cube_sum", "(jnp.arange(6.0).reshape(2, 3),)", steps("grad", "vmap"))
    np.testing.assert_allclose(done.output, 3 * np.arange(6.0).reshape(2, 3) ** 2)


def test_grad_of_grad_is_the_second_derivative() -> None:
    code = "def s(x):\n    return jnp.sin(x)\n"
    done = inspect(code, "s", "(0.5,)", steps("grad", "grad", "jit"))
    assert done.result.expression == "jax.jit(jax.grad(jax.grad(s)))"
    assert float(done.output) == pytest.approx(-np.sin(0.5), rel=1e-6)


def test_jit_value_and_grad_of_least_squares_against_numpy() -> None:
    code = ("def mse(w, x, y):\n    return jnp.mean((x @ w - y) ** 2)\n"
            "x = jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])\ny = jnp.array([1.0, 0.0, 2.0])\n")
    done = inspect(code, "mse", "(jnp.array([0.5, -0.25]), x, y)",
                   steps("value_and_grad", "jit"))
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    y = np.array([1.0, 0.0, 2.0])
    w = np.array([0.5, -0.25])
    residual = x @ w - y
    value, gradient = done.output
    assert float(value) == pytest.approx(np.mean(residual**2), rel=1e-6)
    np.testing.assert_allclose(gradient, 2 * x.T @ residual / 3, rtol=1e-6)


def test_pmap_of_vmap() -> None:
    code = "def norm2(v):\n    return jnp.dot(v, v)\n"
    done = inspect(code, "norm2", "(jnp.arange(48.0).reshape(8, 2, 3),)", steps("vmap", "pmap"))
    x = np.arange(48.0).reshape(8, 2, 3)
    np.testing.assert_allclose(done.output, (x**2).sum(axis=-1))


def test_vmap_of_jit() -> None:
    code = "def affine(x):\n    return 3.0 * x + 1.0\n"
    done = inspect(code, "affine", "(jnp.arange(4.0),)", steps("jit", "vmap"))
    assert done.result.expression == "jax.vmap(jax.jit(affine))"
    np.testing.assert_allclose(done.output, 3.0 * np.arange(4.0) + 1.0)


def test_jit_of_pmap_with_collective() -> None:
    code = "def centre(x):\n    return x - jax.lax.pmean(x, 'dev')\n"
    done = inspect(code, "centre", "(jnp.arange(8.0),)",
                   steps(("pmap", {"axis_name": "dev"}), "jit"))
    np.testing.assert_allclose(done.output, np.arange(8.0) - 3.5)


def test_jit_of_grad_with_two_argnums() -> None:
    code = "def f(a, b):\n    return a ** 2 * jnp.exp(b)\n"
    done = inspect(code, "f", "(3.0, 0.0)", steps(("grad", {"argnums": [0, 1]}), "jit"))
    da, db = done.output
    assert (float(da), float(db)) == pytest.approx((6.0, 9.0))


def test_vmap_of_vmap_is_an_outer_product() -> None:
    code = "def mul(a, b):\n    return a * b\n"
    done = inspect(code, "mul", "(jnp.arange(3.0), jnp.arange(4.0))",
                   steps(("vmap", {"in_axes": [None, 0]}), ("vmap", {"in_axes": [0, None]})))
    np.testing.assert_allclose(done.output, np.outer(np.arange(3.0), np.arange(4.0)))


def test_args_expression_may_be_a_single_value() -> None:
    done = inspect(CUBE, "cube_sum", "jnp.array([2.0])", steps("grad"))
    np.testing.assert_allclose(done.output, [12.0])
