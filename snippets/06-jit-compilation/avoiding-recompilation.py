# /// snippet
# title = "New shapes recompile, same shapes reuse"
# subsection = "Avoiding Recompilation"
# explanation = """
# jit caches one compiled program per input shape and dtype. Shapes (10,), (20,), (10,) cost two
# compilations; padding to a fixed batch size keeps it at one. The trace counter shows it; the
# Transform Lab shows JAX's own explanation for each cache miss.
# """
# entry = "process"
# args = "(jnp.ones(10),)"
# transforms = ["jit", "grad", "vmap"]
# expect = { outcome = "ok", stdout = "compilations after x1, x2, x3: 2" }
# changes = "Added imports, the calls the guide leaves out, and a trace counter."
# guide_blocks = [39]
# ///
import jax
import jax.numpy as jnp

traces = 0

# Bad: Different shapes trigger recompilation
@jax.jit
def process(x):
    global traces
    traces += 1  # counts compilations: runs only while tracing
    return jnp.sum(x**2)

x1 = jnp.ones(10)    # Compiles for shape (10,)
x2 = jnp.ones(20)    # Recompiles for shape (20,)
x3 = jnp.ones(10)    # Uses cached version
for x in (x1, x2, x3):
    process(x)
print("compilations after x1, x2, x3:", traces)

# Good: Consistent shapes
batch_size = 32
x1 = jnp.ones((batch_size, 10))
x2 = jnp.ones((batch_size, 10))  # Same shape, cached
traces = 0
process(x1)
process(x2)
print("compilations for two same-shape batches:", traces)
