# /// snippet
# title = "JAX: float32 by default, x64 on request"
# pair_title = "Default precision"
# subsection = "3. 64-bit Precision"
# explanation = """
# JAX makes float32 arrays unless 64-bit mode is on: accelerators are much faster in 32 bits.
# jax_enable_x64 switches it on; set it at start-up, before any array is created, because arrays
# made before keep their dtype. The playground's x64 toggle does that for one run.
# """
# difference = "The same array is float64 in NumPy and float32 in JAX until jax_enable_x64 is set."
# expect = { outcome = "ok", stdout = "float32\n0.0\nfloat64" }
# changes = "Added a precision demo; the config.update call is the guide's. In a script, set it at the top (or JAX_ENABLE_X64=1)."
# guide_blocks = [12]
# ///
import jax.numpy as jnp

x = jnp.array([1.0])
print(x.dtype)  # float32 (default)
print(jnp.float32(1) + jnp.float32(1e-10) - 1)  # 0.0: lost in float32

# Enable 64-bit globally
from jax import config
config.update("jax_enable_x64", True)

x = jnp.array([1.0])
print(x.dtype)  # float64

# Or use environment variable
# JAX_ENABLE_X64=1 python script.py
