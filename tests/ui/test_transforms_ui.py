"""Transform stack options typed by the person become protocol TransformSteps."""

from __future__ import annotations

import pytest

from app.protocol import TransformStep
from app.ui.widgets.transforms import OptionError, expression, parse_option, steps_from


def test_steps_keep_order_and_parse_literals() -> None:
    steps = steps_from(["grad", "vmap", "jit"],
                       [{"argnums": "0", "has_aux": ""}, {"in_axes": "(None, 0)", "out_axes": ""}])
    assert steps == [TransformStep("grad", {"argnums": 0}),
                     TransformStep("vmap", {"in_axes": [None, 0]}),
                     TransformStep("jit", {})]


def test_a_wrapper_may_repeat_with_its_own_options() -> None:
    steps = steps_from(["grad", "grad"], [{"argnums": "1"}, {"argnums": "0"}])
    assert steps == [TransformStep("grad", {"argnums": 1}), TransformStep("grad", {"argnums": 0})]
    assert expression("f", steps) == "jax.grad(jax.grad(f, argnums=1), argnums=0)"


def test_expression_matches_the_worker_style() -> None:
    steps = [TransformStep("grad"), TransformStep("vmap", {"in_axes": [None, 0]}),
             TransformStep("jit")]
    assert expression("loss", steps) == "jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))"


def test_bad_option_is_explained() -> None:
    with pytest.raises(OptionError, match="not a Python literal"):
        parse_option("vmap.in_axes", "(None, 0")
    with pytest.raises(OptionError):
        parse_option("jit.static_argnums", "__import__('os')")


def test_call_text_reads_like_a_call() -> None:
    from app.ui.widgets.snippet_area import call_text

    assert call_text("loss", "(x,)") == "loss(x)"
    assert call_text("f", "(params, batch)") == "f(params, batch)"
    assert call_text("g", None) == "g()"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("text", ["-" * 100_000 + "1", "(" * 150 + "0" + ")" * 150,
                                  "[" * 199 + "0", "-" * 199 + "1", "1" * 2_000_000])
def test_a_long_or_deep_option_is_refused_with_a_message(text: str) -> None:
    """The parse of an option is bounded: never MemoryError, never seconds of parsing."""
    try:
        value = parse_option("vmap.in_axes", text)
    except OptionError as exc:
        assert "vmap.in_axes" in str(exc)
    else:
        assert len(text) <= 200 and value is not None


def test_an_option_past_the_cap_says_the_cap() -> None:
    from app.ui.widgets.transforms import MAX_OPTION_CHARS

    with pytest.raises(OptionError, match=f"at most {MAX_OPTION_CHARS} characters"):
        parse_option("grad.argnums", "0" + " " * MAX_OPTION_CHARS)
