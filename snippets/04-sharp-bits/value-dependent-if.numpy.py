# /// snippet
# title = "Python: if on a value just works"
# subsection = "2. Control Flow Limitations"
# explanation = "Without jit, x > 0 is a concrete boolean and Python's if picks a branch."
# entry = "conditional"
# args = "(2.0,)"
# expect = { outcome = "ok", stdout = "4.0 -8.0" }
# changes = "Not in the guide: the same function without jax.jit, for comparison."
# ///
import numpy as np

def conditional(x):
    if x > 0:
        return x**2
    else:
        return x**3

print(conditional(np.float32(2.0)), conditional(np.float32(-2.0)))
