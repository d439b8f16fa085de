# /// snippet
# title = "jit: print shows a tracer, once"
# pair_title = "Print in jit"
# subsection = "5. Print Debugging in JIT"
# explanation = """
# Under jit, print runs while tracing: it shows the tracer (shape and dtype, no value) and only
# on the first call; the cached program has no print in it. jax.debug.print is the fix.
# """
# entry = "debug"
# args = "(2.0,)"
# transforms = ["jit", "vmap", "grad"]
# difference = "Plain Python prints 3 values; under jit print runs once, during tracing, and shows a tracer instead of a value."
# expect = { outcome = "ok", stdout = "float32[]" }
# changes = "Added `import jax` (missing in the guide) and three calls, so you see one print for three calls."
# guide_blocks = [26]
# ///
import jax

@jax.jit
def debug(x):
    print(f"x = {x}")  # Only prints ONCE (during trace)
    return x**2

for value in (1.0, 2.0, 3.0):
    debug(value)
