# /// snippet
# title = "Jit the expensive parts, not the trivial ones"
# subsection = "1. JIT Your Critical Paths"
# explanation = """
# expensive_fn does 100 matrix products: jit fuses them into one compiled program, and the
# Python loop is unrolled once at trace time. trivial does one addition, where jit's dispatch
# and compile overhead buys nothing. Compare both in the Transform Lab with and without jit,
# and against NumPy.
# """
# entry = "expensive_fn"
# args = "(jnp.eye(64) * 0.5 + 0.5 / 64,)"
# transforms = ["jit", "vmap"]
# numpy_entry = "expensive_fn_numpy"
# expect = { outcome = "ok", stdout = "finite: True" }
# changes = """
# Added imports, a NumPy version for timings and a call. Repeated x @ x.T squares the values
# each time, so almost any input overflows to inf or underflows to 0 within 100 steps; the
# example input is a matrix whose x @ x.T stays bounded.
# """
# guide_blocks = [49]
# guide_issue = "Repeated x @ x.T overflows to inf or underflows to 0 for almost any input within 100 steps."
# ///
import jax
import jax.numpy as jnp
import numpy as np

# Wrap expensive computations in jit
@jax.jit
def expensive_fn(x):
    for _ in range(100):
        x = jnp.dot(x, x.T)
    return x

def expensive_fn_numpy(x):
    x = np.asarray(x)
    for _ in range(100):
        x = np.dot(x, x.T)
    return x

# Avoid jitting trivial operations
def trivial(x):
    return x + 1  # JIT overhead not worth it

x = jnp.eye(64) * 0.5 + 0.5 / 64
result = expensive_fn(x)
print("finite:", bool(jnp.isfinite(result).all()))
print(trivial(1.0))
