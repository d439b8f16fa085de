# /// snippet
# title = "Jacobians: jacfwd and jacrev"
# subsection = "Jacobian"
# explanation = """
# For vector-to-vector functions, jacfwd (forward mode) is cheaper with few inputs and jacrev
# (reverse mode) with few outputs. Both give the same matrix: one row per output.
# """
# entry = "vector_fn"
# args = "(jnp.array([2.0, 3.0]),)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "[[ 4.  0.]\n [ 0. 27.]\n [ 3.  2.]]" }
# changes = "Added imports."
# guide_blocks = [35]
# ///
import jax
import jax.numpy as jnp

def vector_fn(x):
    """Vector to vector function"""
    return jnp.array([x[0]**2, x[1]**3, x[0]*x[1]])

# Forward-mode (efficient for few inputs, many outputs)
jacfwd = jax.jacfwd(vector_fn)

# Reverse-mode (efficient for many inputs, few outputs)
jacrev = jax.jacrev(vector_fn)

x = jnp.array([2.0, 3.0])
print(jacfwd(x))
print(jacrev(x))  # Same result
