# /// snippet
# title = "NumPy: data-dependent shapes work"
# subsection = "Dynamic shapes"
# explanation = "np.nonzero returns as many indices as there are nonzero entries."
# expect = { outcome = "ok", stdout = "[1 3]" }
# changes = "The table's cell made runnable."
# ///
import numpy as np
x = np.array([0, 5, 0, 7])
print(np.nonzero(x)[0])
