"""What the result tabs show, in a sentence each, where a learner first meets them: the jaxpr,
HLO, Timings and Cost tabs open with one line, and a folded note reads the fields out."""

from __future__ import annotations

import streamlit as st

JAXPR = ("A **jaxpr** is JAX's own record of your function: its typed inputs, one primitive "
         "operation per line, and what it returns. Transforms such as grad and vmap rewrite it; "
         "jit hands it to XLA.")
HLO = ("**HLO** is the program XLA compiles: StableHLO is what JAX hands over, the optimised "
       "HLO is what XLA made of it for this device (operations fused, layouts chosen).")
TIMINGS = ("**Timings** say how long JAX took to prepare your function and to run it, each "
           "phase measured on its own.")
COST = ("**Cost** is XLA's own estimate of the compiled program's work and memory, made "
        "before it runs.")

HOW_TO_READ_A_JAXPR = """\
```
{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[] = reduce_sum[axes=(0,)] b
  in (c,) }
```
- `a:f32[3]` is an input: a variable named `a`, float32, shape (3,); `f32[]` is a scalar.
- Each line after `let` is one primitive applied to earlier variables; the part in brackets,
  like `[axes=(0,)]`, is its parameters.
- `in (c,)` is what the function returns.
- Names before the `;` are constants captured from your code; `pjit[name=f jaxpr={...}]` is a
  call to a jitted function, with its own jaxpr inside.
- Python control flow is gone: a Python `for` loop appears unrolled, `lax.scan` or
  `lax.cond` appear as one primitive each.
"""

TIMING_FIELDS = (
    ("trace + lower", "JAX runs your Python once with abstract values to build the jaxpr, then "
     "turns it into StableHLO."),
    ("compile", "XLA compiles the StableHLO for this device; paid again for every new shape, "
     "dtype or static value."),
    ("first call", "the first real call: tracing, compiling and running together, as your code "
     "feels it."),
    ("steady state", "the median of many later calls, each waited for with "
     "block_until_ready (JAX returns before the work is done); the error bar is max − min."),
    ("without jit", "the same stack with its jits removed: JAX runs it op by op."),
    ("NumPy", "the snippet's NumPy version on the same inputs, where it has one."),
)

COST_FIELDS = (
    ("flops", "floating-point operations (one add or multiply counts one); a loop's body is "
     "counted once."),
    ("bytes accessed", "bytes all the operations read and write in memory."),
    ("transcendentals", "exp, log, sin, tanh and other costly functions, counted apart."),
    ("argument size / output size", "the buffers of the inputs and the results."),
    ("alias size", "results that reuse an input's buffer (donated arguments)."),
    ("temp size", "scratch buffers XLA needs while the program runs."),
    ("generated code size", "the compiled machine code."),
    ("peak memory", "the most memory alive at one time."),
)


def _fields(rows: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"- **{name}**: {meaning}" for name, meaning in rows)


def jaxpr_note() -> None:
    st.caption(JAXPR)
    with st.expander("How to read a jaxpr"):
        st.markdown(HOW_TO_READ_A_JAXPR)


def hlo_note() -> None:
    st.caption(HLO)


def timings_note() -> None:
    st.caption(TIMINGS)
    with st.expander("What each timing means"):
        st.markdown(_fields(TIMING_FIELDS))


def cost_note() -> None:
    st.caption(COST)
    with st.expander("What each field means"):
        st.markdown(_fields(COST_FIELDS))
