# /// snippet
# title = "JAX: a silent clamp"
# pair_title = "Out-of-bounds"
# subsection = "Out-of-bounds"
# explanation = "JAX clamps the index and returns the last element. Validate indices yourself."
# entry = "get"
# args = "(jnp.arange(3), 5)"
# transforms = ["jit", "vmap"]
# difference = "NumPy raises IndexError; JAX returns the last element without any error."
# expect = { outcome = "ok", stdout = "2" }
# changes = "The table's cell made runnable."
# ///
import jax.numpy as jnp

def get(x, i):
    return x[i]

print(get(jnp.arange(3), 5))  # ⚠️ 2: clamped, no error
