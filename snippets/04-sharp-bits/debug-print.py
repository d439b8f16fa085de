# /// snippet
# title = "jax.debug.print prints every call"
# subsection = "5. Print Debugging in JIT"
# explanation = """
# jax.debug.print is part of the compiled program: it prints the runtime value on every call,
# also under vmap (once per element) and inside loops.
# """
# entry = "debug"
# args = "(2.0,)"
# transforms = ["jit", "vmap", "grad"]
# expect = { outcome = "ok", stdout = "x = 1.0\nx = 2.0\nx = 3.0" }
# changes = "Added `import jax` (missing in the guide) and three calls."
# guide_blocks = [27]
# ///
import jax

@jax.jit
def debug(x):
    jax.debug.print("x = {}", x)  # Prints every call
    return x**2

for value in (1.0, 2.0, 3.0):
    debug(value)
