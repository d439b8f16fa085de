# /// snippet
# title = "NumPy: x[0] = 1"
# subsection = "In-place update"
# explanation = "The table's NumPy column: item assignment changes the array."
# expect = { outcome = "ok", stdout = "[1 2 3]" }
# changes = "The table's one-liner made runnable."
# ///
import numpy as np
x = np.array([0, 2, 3])
x[0] = 1
print(x)
