# /// snippet
# title = "JAX: float32"
# pair_title = "Default precision"
# subsection = "Default precision"
# explanation = "JAX's default float is 32-bit; set jax_enable_x64 (or the x64 toggle) for 64-bit."
# difference = "The same literal is float64 in NumPy and float32 in JAX unless jax_enable_x64 is set."
# expect = { outcome = "ok", stdout = "float32" }
# changes = "The table's cell made runnable."
# ///
import jax.numpy as jnp
print(jnp.array([0.1]).dtype)
