"""The jaxpr / StableHLO / HLO lexers on real output of this JAX: right token types, no errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from pygments.token import Error, Keyword, Name, Number, Operator

from app.lexers import HloLexer, JaxprLexer, StableHloLexer, get_lexer


def _mlp_loss(w: jax.Array, x: jax.Array) -> jax.Array:
    h = jnp.tanh(x @ w)
    jax.debug.print("h {}", h.sum())
    return jax.lax.cond(h.sum() > 0, lambda a: a * 2, lambda a: a, h).sum()


W, X = jnp.ones((3, 2)), jnp.ones((4, 3))


def _tokens(lexer: object, text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in lexer.get_tokens(text) if v.strip()]  # type: ignore[attr-defined]


def _jaxprs() -> list[str]:
    return [
        str(jax.make_jaxpr(jax.grad(_mlp_loss))(W, X)),
        str(jax.make_jaxpr(jax.pmap(lambda v: jax.lax.psum(v, "i"), axis_name="i"))(
            jnp.ones(8))),
        str(jax.make_jaxpr(lambda k: jax.random.normal(k, (3,)))(jax.random.key(0))),
        str(jax.make_jaxpr(lambda i: jax.lax.fori_loop(0, 3, lambda k, c: c + k, i))(1)),
    ]


@pytest.mark.parametrize("index", range(4))
def test_jaxpr_lexer_has_no_error_tokens(index: int) -> None:
    tokens = _tokens(JaxprLexer(), _jaxprs()[index])
    assert tokens and not [v for t, v in tokens if t in Error]


def _types_of(tokens: list[tuple[object, str]]) -> dict[str, set[object]]:
    found: dict[str, set[object]] = {}
    for kind, value in tokens:
        found.setdefault(value, set()).add(kind)
    return found


def _is(types: dict[str, set[object]], value: str, kind: object) -> bool:
    return any(t in kind for t in types[value])  # type: ignore[operator]


def test_jaxpr_lexer_token_types() -> None:
    tokens = _tokens(JaxprLexer(), _jaxprs()[0])
    types = _types_of(tokens)
    assert _is(types, "lambda", Keyword) and _is(types, "let", Keyword)
    assert _is(types, "f32[4,2]", Keyword.Type)
    assert _is(types, "tanh", Name.Function) and _is(types, "dot_general", Name.Function)
    assert _is(types, "dimension_numbers", Name.Attribute)
    assert _is(types, "1.0", Number)
    # the equation "d:f32[4,2] = tanh c": type, " = ", primitive, operand
    index = next(i for i, (t, v) in enumerate(tokens) if v == "tanh" and t in Name.Function)
    assert tokens[index - 2][0] in Keyword.Type
    assert tokens[index - 1] == (Operator, " = ")
    assert tokens[index + 1][0] in Name.Variable


def _lowered() -> jax.stages.Lowered:
    return jax.jit(jax.grad(_mlp_loss)).trace(W, X).lower()


def test_stablehlo_lexer_on_real_module() -> None:
    text = _lowered().as_text() + _lowered().as_text(debug_info=True)
    tokens = _tokens(StableHloLexer(), text)
    assert not [v for t, v in tokens if t in Error]
    types = _types_of(tokens)
    assert _is(types, "stablehlo.tanh", Name.Builtin)
    assert _is(types, "%arg0", Name.Variable) and _is(types, "@main", Name.Function)
    assert _is(types, "tensor", Keyword.Type) and _is(types, "4x2xf32", Keyword.Type)
    assert _is(types, "module", Keyword)


def test_hlo_lexer_on_real_optimised_module() -> None:
    text = _lowered().compile().as_text() + _lowered().as_text("hlo")
    tokens = _tokens(HloLexer(), text)
    assert not [v for t, v in tokens if t in Error]
    types = _types_of(tokens)
    assert _is(types, "HloModule", Keyword) and _is(types, "ROOT", Keyword)
    assert _is(types, "f32[4,2]", Keyword.Type)
    assert _is(types, "multiply", Name.Function)
    assert _is(types, "metadata", Name.Attribute)


def test_get_lexer_knows_the_three_views_only() -> None:
    assert isinstance(get_lexer("jaxpr"), JaxprLexer)
    assert isinstance(get_lexer("stablehlo"), StableHloLexer)
    assert isinstance(get_lexer("hlo"), HloLexer)
    assert get_lexer("cost") is None
