# /// snippet
# title = "jit: side effects run only while tracing"
# pair_title = "Impure functions"
# subsection = "1. Pure Functions Required"
# explanation = """
# jit runs the Python body once to trace it, then replays the compiled program. The global
# counter moves during that trace only: the second call, same shape and dtype, never touches it.
# A new shape or dtype would trace (and count) again.
# """
# entry = "impure_fn"
# args = "(2.0,)"
# transforms = ["jit", "grad", "vmap"]
# difference = "Without jit the counter counts every call (2); under jit it counts traces, so it stays at 1 after two calls."
# expect = { outcome = "ok", stdout = "counter = 1" }
# changes = "Added `import jax` (missing in the guide) and a print of the counter."
# guide_blocks = [17]
# ///
import jax

counter = 0

@jax.jit
def impure_fn(x):
    global counter
    counter += 1  # Side effect - UNRELIABLE
    return x**2

# First call: counter=1 (traced)
result = impure_fn(2.0)
# Subsequent calls: counter STILL 1 (uses cached trace)
result = impure_fn(3.0)
print("counter =", counter)  # 1
