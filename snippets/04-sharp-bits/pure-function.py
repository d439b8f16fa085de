# /// snippet
# title = "Pure function: state in, state out"
# subsection = "1. Pure Functions Required"
# explanation = """
# Make the state an argument and return the new state. Now jit changes nothing about the
# result: the counter reaches 2 after two calls, as it should.
# """
# entry = "pure_fn"
# args = "(2.0, 0)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "counter = 2" }
# changes = "Added `import jax` (missing in the guide) and a print."
# guide_blocks = [18]
# ///
import jax

@jax.jit
def pure_fn(x, counter):
    return x**2, counter + 1

result, counter = pure_fn(2.0, 0)
result, counter = pure_fn(3.0, counter)
print("result =", result, "counter =", counter)
