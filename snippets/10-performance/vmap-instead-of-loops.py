# /// snippet
# title = "vmap instead of a Python loop over examples"
# subsection = "2. Use vmap Instead of Loops"
# explanation = """
# The list comprehension dispatches one small computation per example from Python; vmap builds a
# single batched one. Time slow_batch against fast_batch on the same batch in the Transform Lab.
# """
# entry = "process"
# args = "(jnp.ones(16),)"
# transforms = ["vmap", "jit", "grad"]
# expect = { outcome = "ok", stdout = "same results: True" }
# changes = "The guide never defines process; here it is a small per-example function (a norm of a transformed vector). Added imports and a comparison."
# guide_blocks = [50]
# guide_issue = "process is never defined."
# ///
import jax
import jax.numpy as jnp

def process(x):
    return jnp.sqrt(jnp.sum(jnp.tanh(x) ** 2))

# Slow: Python loop
def slow_batch(xs):
    return jnp.array([process(x) for x in xs])

# Fast: vmap
fast_batch = jax.vmap(process)

xs = jnp.linspace(-1.0, 1.0, 8 * 16).reshape(8, 16)  # 8 examples
print("same results:", bool(jnp.allclose(slow_batch(xs), fast_batch(xs))))
