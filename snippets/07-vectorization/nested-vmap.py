# /// snippet
# title = "Nested vmap: an outer product"
# subsection = "Nested vmap"
# explanation = """
# The inner vmap maps over y, the outer over x, giving every pair: the result has shape (3, 2),
# the same as broadcasting x[:, None] * y[None, :].
# """
# entry = "fn"
# args = "(2.0, 3.0)"
# transforms = ["vmap", "jit", "grad"]
# expect = { outcome = "ok", stdout = "(3, 2) True" }
# changes = "Added imports and a check against the broadcasting version."
# guide_blocks = [42]
# ///
import jax
import jax.numpy as jnp

# Batch over two dimensions
def fn(x, y):
    return x * y

# Batch over first arg, then second
fn_batch = jax.vmap(jax.vmap(fn, in_axes=(None, 0)), in_axes=(0, None))

x = jnp.array([1, 2, 3])       # (3,)
y = jnp.array([10, 20])        # (2,)
result = fn_batch(x, y)        # (3, 2)

# Equivalent to: x[:, None] * y[None, :]
print(result)
print(result.shape, bool((result == x[:, None] * y[None, :]).all()))
