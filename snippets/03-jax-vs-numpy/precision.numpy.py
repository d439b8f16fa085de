# /// snippet
# title = "NumPy: float64 by default"
# subsection = "3. 64-bit Precision"
# explanation = "NumPy makes float64 arrays from Python floats unless told otherwise."
# expect = { outcome = "ok", stdout = "float64" }
# changes = "The guide has no NumPy block here; this is the NumPy side of the gotcha."
# ///
import numpy as np

x = np.array([1.0])
print(x.dtype)  # float64
print(np.float64(1) + np.float64(1e-10) - 1)  # ~1e-10: float64 keeps it
