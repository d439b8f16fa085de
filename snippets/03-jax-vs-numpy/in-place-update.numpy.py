# /// snippet
# title = "NumPy: assign into an array in place"
# subsection = "1. Immutability"
# explanation = "NumPy arrays are mutable buffers: item assignment changes the array you hold."
# expect = { outcome = "ok", stdout = "[10  2  3]" }
# guide_blocks = [6]
# ///
import numpy as np
x = np.array([1, 2, 3])
x[0] = 10  # Modifies x in-place
print(x)  # [10  2  3]
