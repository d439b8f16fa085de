# /// snippet
# title = "JAX: print runs once, jax.debug.print every call"
# pair_title = "Print in JIT"
# subsection = "Print in JIT"
# explanation = """
# Under jit, print runs once, while tracing, and shows a tracer; jax.debug.print (the solution)
# prints the value on every call.
# """
# entry = "f"
# args = "(1.0,)"
# transforms = ["jit", "vmap"]
# difference = "Plain print shows each value; under jit it prints once at trace time, so use jax.debug.print."
# expect = { outcome = "ok", stdout = "debug 1.0\ndebug 2.0" }
# changes = "The table's cell made runnable."
# ///
import jax

@jax.jit
def f(x):
    print("print during tracing:", x)  # Only once
    jax.debug.print("debug {}", x)  # Solution: every call
    return x * 2

f(1.0)
f(2.0)
