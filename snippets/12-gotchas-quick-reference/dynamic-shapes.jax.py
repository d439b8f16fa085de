# /// snippet
# title = "JAX: data-dependent shapes fail in jit"
# pair_title = "Dynamic shapes"
# subsection = "Dynamic shapes"
# explanation = """
# Under jit the number of nonzero entries is unknown at compile time. Keep shapes static: give
# jnp.nonzero a fixed size= (the solution, run first) or use jnp.where.
# """
# difference = "NumPy returns as many indices as it finds; under jit JAX needs a fixed size and raises ConcretizationTypeError without one."
# expect = { outcome = "ConcretizationTypeError", message = "Abstract tracer value encountered" }
# changes = "The table's cells made runnable: the solution first, then the failing version."
# ///
import jax
import jax.numpy as jnp

x = jnp.array([0, 5, 0, 7])

@jax.jit
def nonzero_static(x):
    return jnp.nonzero(x, size=2)[0]  # Solution: a fixed output size

print(nonzero_static(x))

@jax.jit
def nonzero(x):
    return jnp.nonzero(x)[0]  # ❌ In JIT: the size depends on the values

nonzero(x)
