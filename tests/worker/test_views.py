"""Each view on at least two functions, with facts we can compute by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

import app
from app.protocol import VIEW_NAMES
from app.worker import views

from .helpers import inspect, steps

MATMUL = "def matmul(a, b):\n    return a @ b\n"
MATMUL_ARGS = "(jnp.ones((64, 32)), jnp.ones((32, 16)))"
SINE = "def wave(x):\n    return jnp.sin(x) * 2.0\n"
SINE_ARGS = "(jnp.linspace(0.0, 1.0, 100),)"


@pytest.fixture(scope="module")
def matmul_views():
    return inspect(MATMUL, "matmul", MATMUL_ARGS, steps("jit"), views=list(VIEW_NAMES)).result


@pytest.fixture(scope="module")
def sine_views():
    # No jit in the stack: the views lower jax.jit(jax.vmap(wave)) instead.
    return inspect(SINE, "wave", SINE_ARGS, steps("vmap"), views=list(VIEW_NAMES)).result


def test_no_view_unless_asked() -> None:
    result = inspect(SINE, "wave", SINE_ARGS, steps("jit")).result
    assert result.error is None
    assert (result.jaxpr, result.stablehlo, result.hlo, result.cost, result.memory) == (
        None, None, None, None, None)
    assert result.devices == [] and result.in_shapes == []


def test_jaxpr_view(matmul_views, sine_views) -> None:
    assert "dot_general" in matmul_views.jaxpr and "f32[64,16]" in matmul_views.jaxpr
    assert "sin" in sine_views.jaxpr and "f32[100]" in sine_views.jaxpr


def test_stablehlo_view(matmul_views, sine_views) -> None:
    assert "stablehlo.dot_general" in matmul_views.stablehlo
    assert "tensor<64x32xf32>" in matmul_views.stablehlo
    assert "stablehlo.sine" in sine_views.stablehlo
    assert "func.func public @main" in sine_views.stablehlo


def test_optimised_hlo_view(matmul_views, sine_views) -> None:
    assert matmul_views.hlo.startswith("HloModule")
    assert "f32[64,16]" in matmul_views.hlo
    assert sine_views.hlo.startswith("HloModule") and "sine" in sine_views.hlo


def test_cost_view(matmul_views, sine_views) -> None:
    assert matmul_views.cost["flops"] == pytest.approx(2 * 64 * 32 * 16, rel=0.05)
    assert matmul_views.cost["bytes accessed"] >= 4 * (64 * 32 + 32 * 16 + 64 * 16)
    assert sine_views.cost["flops"] > 0
    assert all("{" not in key for key in matmul_views.cost)


def test_memory_view(matmul_views, sine_views) -> None:
    assert matmul_views.memory["argument_size_in_bytes"] == 4 * (64 * 32 + 32 * 16)
    assert matmul_views.memory["output_size_in_bytes"] == 4 * 64 * 16
    assert sine_views.memory["argument_size_in_bytes"] == 4 * 100
    assert sine_views.memory["output_size_in_bytes"] == 4 * 100


def test_shapes_view(matmul_views, sine_views) -> None:
    assert matmul_views.in_shapes == ["args[0]: f32[64,32]", "args[1]: f32[32,16]"]
    assert matmul_views.out_shapes == ["out: f32[64,16]"]
    assert sine_views.in_shapes == ["args[0]: f32[100]"]


def test_shapes_of_pytrees_and_python_values() -> None:
    code = "def f(params, n):\n    return {'y': params['w'] * n, 'n': n}\n"
    result = inspect(code, "f", "({'w': jnp.ones(2, jnp.int32)}, 3)", [],
                     views=["shapes"]).result
    assert result.in_shapes == ["args[0]['w']: i32[2]", "args[1]: int 3"]
    assert result.out_shapes == ["out['n']: int 3", "out['y']: i32[2]"]


def test_devices_view(matmul_views) -> None:
    assert matmul_views.devices == ["cpu:0 (cpu)"]
    code = "def inc(x):\n    return x + 1\n"
    pmapped = inspect(code, "inc", "(jnp.ones((4, 2)),)", steps("pmap"), views=["devices"])
    assert pmapped.result.devices == [f"cpu:{i} (cpu)" for i in range(4)]


def test_pmap_views_and_modern_equivalent() -> None:
    code = "def share(x, s):\n    return s * x / jax.lax.psum(x, 'i')\n"
    done = inspect(code, "share", "(jnp.arange(1.0, 9.0), 2.0)",
                   steps(("pmap", {"axis_name": "i", "in_axes": [0, None]})),
                   views=["jaxpr", "stablehlo"])
    assert "shard_map" in done.result.jaxpr and "psum" in done.result.jaxpr
    assert "num_partitions = 8" in done.result.stablehlo
    note = next(w for w in done.result.warnings if "modern equivalent" in w)
    modern = note.split("modern equivalent is ", 1)[1]
    # The offered code runs and gives pmap's answer.
    namespace = dict(done.namespace)
    import numpy as np
    exec("import jax, jax.numpy as jnp", namespace)
    again = eval(modern, namespace)(namespace["jnp"].arange(1.0, 9.0), 2.0)
    np.testing.assert_allclose(again, done.output, rtol=1e-6)


def test_big_views_are_capped_and_named(monkeypatch: pytest.MonkeyPatch, matmul_views) -> None:
    assert matmul_views.truncated_views == []
    monkeypatch.setattr(views, "VIEW_CHAR_LIMIT", 300)
    result = inspect(MATMUL, "matmul", MATMUL_ARGS, steps("jit"),
                     views=["jaxpr", "stablehlo", "hlo"]).result
    assert sorted(result.truncated_views) == ["hlo", "jaxpr", "stablehlo"]
    for text in (result.jaxpr, result.stablehlo, result.hlo):
        assert text.endswith("more characters]") and len(text) < 400


def test_a_view_that_cannot_lower_warns_and_keeps_the_output() -> None:
    # A Python int used as a shape works eagerly but not under the jit the views need.
    code = "def ones(x, n):\n    return x * jnp.ones(n)\n"
    done = inspect(code, "ones", "(2.0, 3)", [], views=["stablehlo", "jaxpr"])
    assert done.result.error is None
    assert done.output.tolist() == [2.0, 2.0, 2.0]
    assert any("Could not lower" in w for w in done.result.warnings)
    assert done.result.stablehlo is None


def test_text_views_show_no_server_paths(matmul_views, sine_views) -> None:
    # HLO carries a file table of every Python source on the stack; the snippet's name stays,
    # the server's directory layout does not (a hosted demo must not show it).
    server_dir = str(Path(app.__file__).resolve().parent.parent)
    for result in (matmul_views, sine_views):
        for text in (result.jaxpr, result.stablehlo, result.hlo):
            assert server_dir not in text and "site-packages/" not in text
    assert "<snippet>" in matmul_views.hlo


def test_hide_server_paths_keeps_file_names() -> None:
    text = 'FileNames\n1 "<snippet>"\n2 "/srv/app/worker/execute.py"\nx = a/b'
    assert views.hide_server_paths(text) == 'FileNames\n1 "<snippet>"\n2 "execute.py"\nx = a/b'
