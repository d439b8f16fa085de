# /// snippet
# title = "jax.vmap: vectorise a per-example function"
# subsection = "3. jax.vmap - Automatic Vectorization"
# explanation = """
# Write the function for one example; jax.vmap maps it over a leading batch axis without a
# Python loop. Here each row [a, b] becomes a**2 + b**2.
# """
# entry = "process_single"
# args = "(jnp.array([1.0, 2.0]),)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[ 5 25 61]" }
# changes = "Added `import jax.numpy as jnp`, which the guide's block uses without importing."
# guide_blocks = [3]
# ///
import jax
import jax.numpy as jnp

def process_single(x):
    """Process single example"""
    return jnp.sum(x**2)

# Vectorize to process batch
process_batch = jax.vmap(process_single)

# Works on batch automatically
batch = jnp.array([[1, 2], [3, 4], [5, 6]])
results = process_batch(batch)
print(results)  # [ 5 25 61]
