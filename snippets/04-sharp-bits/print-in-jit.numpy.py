# /// snippet
# title = "Plain Python: print runs every call"
# subsection = "5. Print Debugging in JIT"
# explanation = "Without jit, print shows each value, on every call."
# entry = "debug"
# args = "(2.0,)"
# expect = { outcome = "ok", stdout = "x = 1.0\nx = 2.0\nx = 3.0" }
# changes = "Not in the guide: the same function without jax.jit, for comparison."
# ///
def debug(x):
    print(f"x = {x}")
    return x**2

for value in (1.0, 2.0, 3.0):
    debug(value)
