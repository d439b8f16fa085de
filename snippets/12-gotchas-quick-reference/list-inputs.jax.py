# /// snippet
# title = "JAX: jnp.sum([1,2,3]) is an error"
# pair_title = "List inputs"
# subsection = "List inputs"
# explanation = "jnp functions refuse lists; convert with jnp.array first (the solution runs first)."
# difference = "NumPy accepts a list; JAX raises TypeError and wants jnp.sum(jnp.array([1,2,3]))."
# expect = { outcome = "TypeError", message = "sum requires ndarray or scalar arguments" }
# changes = "The table's one-liners made runnable: the solution first, then the failing line."
# ///
import jax.numpy as jnp
print(jnp.sum(jnp.array([1, 2, 3])))  # Solution
jnp.sum([1, 2, 3])  # ❌ Error
