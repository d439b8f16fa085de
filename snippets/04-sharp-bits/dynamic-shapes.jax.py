# /// snippet
# title = "jit: shapes must not depend on values"
# pair_title = "Dynamic shapes"
# subsection = "3. Dynamic Shapes"
# explanation = """
# XLA compiles for fixed shapes. Under jit the mask is a tracer, so the length of x[mask] is
# unknown at compile time and JAX raises NonConcreteBooleanIndexError. Keep the shape fixed
# (jnp.where) or pass size= to functions such as jnp.nonzero.
# """
# difference = "NumPy returns a shorter array; under jit the output shape cannot depend on the mask's values, so JAX raises NonConcreteBooleanIndexError."
# expect = { outcome = "NonConcreteBooleanIndexError", message = "Array boolean indices must be concrete" }
# changes = "The guide only defines the function; here it is also called, which is when the error happens. Added imports."
# guide_blocks = [23]
# ///
import jax
import jax.numpy as jnp

@jax.jit
def dynamic_shape(x, mask):
    return x[mask]  # ERROR: output shape unknown at compile time

dynamic_shape(jnp.arange(4.0), jnp.array([True, False, True, True]))
