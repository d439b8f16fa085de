# /// snippet
# title = "NumPy: lists are accepted"
# subsection = "5. Non-Array Inputs"
# explanation = "NumPy functions convert Python lists to arrays for you."
# expect = { outcome = "ok", stdout = "6" }
# changes = "Added a print of the result."
# guide_blocks = [15]
# ///
import numpy as np
result = np.sum([1, 2, 3])  # Works
print(result)
