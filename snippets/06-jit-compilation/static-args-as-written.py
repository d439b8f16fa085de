# /// snippet
# title = "A loop bound under jit, as the guide writes it"
# subsection = "Static Arguments"
# explanation = """
# The guide says passing a different n 'triggers recompilation'. It is worse: under jit, n is a
# tracer, and range(n) needs a Python int, so the very first call fails with
# TracerIntegerConversionError. Marking n static (next snippet) is the fix.
# """
# expect = { outcome = "TracerIntegerConversionError", message = "__index__() method was called on traced array" }
# changes = "The first half of the guide's block, with x defined (the guide never defines it). The guide's comment about recompilation is wrong: the call raises."
# guide_blocks = [38]
# guide_issue = "A traced loop bound does not 'trigger recompilation': range(n) on a tracer raises TracerIntegerConversionError on the first call; x is also undefined."
# ///
import jax
import jax.numpy as jnp

x = jnp.zeros(3)

@jax.jit
def fn(x, n):
    for i in range(n):  # n must be static
        x = x + 1
    return x

# The guide: "n changes each call, triggers recompilation". In fact the first call raises.
result = fn(x, 5)
result = fn(x, 10)
