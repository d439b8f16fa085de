# /// snippet
# title = "JAX: lists are refused, convert explicitly"
# pair_title = "Non-array inputs"
# subsection = "5. Non-Array Inputs"
# explanation = """
# jnp functions refuse Python lists with a TypeError: under tracing a list would become one
# traced scalar per element, which is slow and silent. Convert once with jnp.array.
# """
# difference = "np.sum([1, 2, 3]) works; jnp.sum([1, 2, 3]) raises TypeError and wants jnp.sum(jnp.array([1, 2, 3]))."
# expect = { outcome = "TypeError", message = "sum requires ndarray or scalar arguments" }
# changes = "The guide comments the failing line out; here it runs last, after the fixed version, so you see both."
# guide_blocks = [16]
# ///
import jax.numpy as jnp

# Convert explicitly
result = jnp.sum(jnp.array([1, 2, 3]))  # Works
print(result)

result = jnp.sum([1, 2, 3])  # ERROR
