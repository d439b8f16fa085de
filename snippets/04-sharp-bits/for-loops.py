# /// snippet
# title = "Loops under jit: Python for vs lax.fori_loop"
# subsection = "2. Control Flow Limitations"
# explanation = """
# A Python for loop inside jit is unrolled while tracing, so its trip count must be a concrete
# Python int: mark n static (one compilation per n) or the range() call fails on a tracer.
# lax.fori_loop keeps the loop in the compiled program and accepts a traced n.
# """
# entry = "loop_good"
# args = "(jnp.float32(0.0), 5)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "5.0 5.0" }
# changes = """
# The guide's loop_bad cannot run as written: with a traced n, range(n) raises
# TracerIntegerConversionError (see jit-compilation/static-args-as-written). Here it is jitted
# with static_argnums=1, which is what its comment means. Added imports and calls.
# """
# guide_blocks = [21]
# guide_issue = "loop_bad is not merely unrolled: with a traced n, range(n) raises TracerIntegerConversionError unless n is static."
# ///
import functools

import jax
import jax.numpy as jnp

# Bad-ish: Python for loop in JIT (unrolled at compile time; n must be static)
@functools.partial(jax.jit, static_argnums=1)
def loop_bad(x, n):
    for i in range(n):  # n must be static
        x = x + 1
    return x

# Good: Use jax.lax.fori_loop
@jax.jit
def loop_good(x, n):
    def body(i, val):
        return val + 1
    return jax.lax.fori_loop(0, n, body, x)

print(loop_bad(0.0, 5), loop_good(0.0, 5))
