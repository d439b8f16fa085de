# /// snippet
# title = "JAX: arrays are immutable"
# pair_title = "In-place update"
# subsection = "1. Immutability"
# explanation = """
# The same assignment on a JAX array raises a TypeError: JAX arrays are immutable values, which
# is what lets jit, grad and vmap reason about them. The error message already names the fix,
# x.at[idx].set(y), which returns a new array.
# """
# difference = "NumPy changes the array in place; JAX refuses item assignment with a TypeError and asks for x = x.at[0].set(10), which returns a new array."
# expect = { outcome = "TypeError", message = "JAX arrays are immutable" }
# changes = "The guide comments the failing line out; here it runs, so you see JAX's real error. The fix is in the next snippet."
# guide_blocks = [7]
# ///
import jax.numpy as jnp
x = jnp.array([1, 2, 3])
x[0] = 10  # ERROR: JAX arrays are immutable
