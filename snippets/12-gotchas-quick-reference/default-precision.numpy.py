# /// snippet
# title = "NumPy: float64"
# subsection = "Default precision"
# explanation = "NumPy's default float is 64-bit."
# expect = { outcome = "ok", stdout = "float64" }
# changes = "The table's cell made runnable."
# ///
import numpy as np
print(np.array([0.1]).dtype)
