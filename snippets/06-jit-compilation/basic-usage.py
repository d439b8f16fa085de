# /// snippet
# title = "jax.jit as a call or a decorator"
# subsection = "Basic Usage"
# explanation = """
# jax.jit(f) and @jax.jit are the same thing. Open the Transform Lab on slow_fn and compare
# the un-jitted time with the jitted one, and the NumPy version, on the same input.
# """
# entry = "slow_fn"
# args = "(jnp.arange(10_000, dtype=jnp.float32),)"
# transforms = ["jit", "grad", "vmap"]
# numpy_entry = "numpy_fn"
# expect = { outcome = "ok", stdout = "True" }
# changes = "Added calls that show both spellings agree, and a NumPy version for timings."
# guide_blocks = [37]
# ///
import jax
import jax.numpy as jnp
import numpy as np

def slow_fn(x):
    return jnp.sum(x**2 + 3*x + 1)

fast_fn = jax.jit(slow_fn)

# Or decorator
@jax.jit
def fast_fn2(x):
    return jnp.sum(x**2 + 3*x + 1)

def numpy_fn(x):
    x = np.asarray(x)
    return np.sum(x**2 + 3*x + 1)

x = jnp.arange(10.0)
print(fast_fn(x), fast_fn2(x), slow_fn(x))
print(bool(fast_fn(x) == fast_fn2(x)))
