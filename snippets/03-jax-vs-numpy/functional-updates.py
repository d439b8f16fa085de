# /// snippet
# title = "Functional updates with .at[]"
# subsection = "1. Immutability"
# explanation = """
# x.at[index] gives set, add, mul, min, max and more; each returns a NEW array and leaves the
# old one alone. Index with an integer, a tuple, a list of indices or a slice. Under jit, XLA
# usually turns these copies into in-place updates for you.
# """
# entry = "update"
# args = "(jnp.zeros((3, 3)),)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[10 10 10]" }
# changes = """
# Blocks 7 and 8 merged. The guide's block 8 uses an `x` it never defines, and its multi-index
# line x.at[0, 1] needs a 2-D array, so the updates run on a 1-D x and the 2-D ones on a matrix.
# """
# guide_blocks = [7, 8]
# guide_issue = "Block 8 uses an undefined x, and x.at[0, 1] on the 1-D x of block 7 raises IndexError (too many indices)."
# ///
import jax.numpy as jnp

x = jnp.array([1, 2, 3])
# x[0] = 10  # ERROR: JAX arrays are immutable (see the in-place-update pair)

# Use functional update instead
x = x.at[0].set(10)  # Returns NEW array
print(x)  # [10  2  3]

# Set value
x = x.at[0].set(10)
# Add to value
x = x.at[0].add(5)
# Multiply value
x = x.at[0].mul(2)
print(x)  # [30  2  3]

# Min/max
x = x.at[0].min(5)
x = x.at[0].max(5)
print(x)  # [5 2 3]

# Multi-index
m = jnp.zeros((3, 3), dtype=jnp.int32)
m = m.at[0, 1].set(10)
print(m)
x = x.at[jnp.array([0, 2])].set(10)
print(x)  # [10  2 10]
x = x.at[0:3].set(10)
print(x)  # [10 10 10]

def update(a):
    """A function for the Transform Lab: .at[] updates are differentiable and jittable."""
    return jnp.sum(a.at[0, 1].set(10.0) * a)
