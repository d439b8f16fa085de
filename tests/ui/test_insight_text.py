"""What the insight views say: jaxpr diffs modulo variable names, the IR legend, and the
captions that explain the timing bars."""

from __future__ import annotations

import re
from collections import Counter

import jax
import jax.numpy as jnp

from app.jaxpr_names import canonical, jax_name
from app.protocol import Timings
from app.ui.widgets import diff_view
from app.ui.widgets.charts import first_call_caption, split_caption
from app.ui.widgets.ir_view import legend_html


def f(x: jax.Array) -> jax.Array:
    return jnp.sum(jnp.sin(x) * 2.0)


X = jnp.ones(3)


def test_jax_names_follow_jax_scheme() -> None:
    assert [jax_name(i) for i in (0, 1, 25, 26, 27, 52)] == ["a", "b", "z", "ba", "bb", "ca"]


def test_a_consistent_renaming_of_a_jaxpr_is_no_difference() -> None:
    text = str(jax.make_jaxpr(jax.grad(f))(X))
    bound = sorted(set(re.findall(r"\b([a-z]{1,8})(?=:)", text)))
    permuted = dict(zip(bound, bound[1:] + bound[:1], strict=True))
    renamed = re.sub(r"\b[a-z]{1,8}\b",
                     lambda m: permuted.get(m.group(), m.group()) if m.group() in bound
                     and not text[max(0, m.start() - 5):m.start()].endswith("name=")
                     else m.group(), text)
    assert renamed != text
    assert diff_view.compute(text, renamed).changed
    assert not diff_view.compute(canonical(text), canonical(renamed)).changed


def test_jit_of_grad_against_grad_of_jit_shows_only_the_structure() -> None:
    a = str(jax.make_jaxpr(jax.jit(jax.grad(f)))(X))
    b = str(jax.make_jaxpr(jax.grad(jax.jit(f)))(X))
    raw, renamed = diff_view.compute(a, b), diff_view.compute(canonical(a), canonical(b))
    assert renamed.added + renamed.removed < raw.added + raw.removed
    same = {row.text.strip() for row in renamed.rows if row.tag == "equal"}
    # The forward pass is the same in both: only JAX's letters differed.
    assert {"b:f32[3] = sin a", "c:f32[3] = cos a", "d:f32[3] = mul b 2.0:f32[]"} <= same
    assert "name=f" in canonical(a)  # a parameter's value is not a variable


def test_the_ir_legend_says_the_count_in_words_before_the_code() -> None:
    code = "\n".join(["import jax"] * 5 + ["y = jnp.sin(x) * 2.0"])
    body = legend_html(code, Counter({6: 2, 1: 1}), {6: 0, 1: 1})
    assert "line 6 (2 IR lines): <code>y = jnp.sin(x) * 2.0</code>" in body
    assert "line 1 (1 IR line): <code>import jax</code>" in body
    assert "</code> ·" not in body


def test_a_cached_compile_is_not_called_cold_and_the_first_call_is_explained() -> None:
    cached = Timings(trace_lower_s=0.002, compile_s=0.0046, first_call_s=0.135,
                     split_source="jax.monitoring", compile_cached=True)
    caption = split_caption(cached) or ""
    assert "cold caches" not in caption
    assert "persistent compilation cache" in caption and "time to load it" in caption
    first = first_call_caption(cached) or ""
    assert "traces, lowers and compiles" in first
    assert "135 ms" in first and "6.6 ms" in first
    fresh = Timings(trace_lower_s=0.002, compile_s=0.05, first_call_s=0.06,
                    split_source="jax.monitoring")
    assert "full compile" in (split_caption(fresh) or "")
    assert "ms against" not in (first_call_caption(fresh) or "")
