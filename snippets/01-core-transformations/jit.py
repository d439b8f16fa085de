# /// snippet
# title = "jax.jit: compile a function with XLA"
# subsection = "2. jax.jit - Just-In-Time Compilation"
# explanation = """
# jax.jit traces the function once per input shape and dtype, compiles it with XLA and caches
# the result. The first call pays for tracing and compilation; later calls with the same shapes
# reuse the compiled code. Time it in the Transform Lab to see both costs.
# """
# entry = "fast_function"
# args = "(jnp.array([4.0, 5.0, 6.0]),)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "125.0" }
# changes = "Added `import jax.numpy as jnp` (the guide's block uses jnp without importing it) and a print of the result."
# guide_blocks = [2]
# ///
import jax
import jax.numpy as jnp

@jax.jit
def fast_function(x):
    return jnp.sum(x**2 + 3*x + 1)

# First call: compilation + execution (slower)
result = fast_function(jnp.array([1.0, 2.0, 3.0]))

# Subsequent calls: cached compiled version (much faster)
result = fast_function(jnp.array([4.0, 5.0, 6.0]))
print(result)  # 125.0
