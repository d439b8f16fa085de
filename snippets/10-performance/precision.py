# /// snippet
# title = "Use float32 unless you need float64"
# subsection = "4. Use Appropriate Precision"
# explanation = """
# float32 is the fast default on accelerators (and float64 is very slow on most GPUs and TPUs).
# Turn on jax_enable_x64 only when you need it, at start-up: the playground's x64 toggle does
# it for one run.
# """
# expect = { outcome = "ok", stdout = "float32\nfloat64" }
# changes = "Added the import and prints of the dtypes before and after."
# guide_blocks = [52]
# ///
import jax.numpy as jnp

# Use float32 unless you need float64
x = jnp.array([1.0, 2.0, 3.0], dtype=jnp.float32)
print(x.dtype)

# Enable float64 only when necessary
from jax import config
config.update("jax_enable_x64", True)
print(jnp.array([1.0]).dtype)
