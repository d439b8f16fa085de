# /// snippet
# title = "JAX: x[0] = 1 is an error"
# pair_title = "In-place update"
# subsection = "In-place update"
# explanation = "The table's JAX column: TypeError. The solution column, x = x.at[0].set(1), runs first."
# difference = "NumPy assigns in place; JAX raises TypeError and wants x = x.at[0].set(1)."
# expect = { outcome = "TypeError", message = "JAX arrays are immutable" }
# changes = "The table's one-liners made runnable: the solution first, then the failing line."
# ///
import jax.numpy as jnp
x = jnp.array([0, 2, 3])
x = x.at[0].set(1)  # Solution
print(x)
x[0] = 1  # ❌ Error
