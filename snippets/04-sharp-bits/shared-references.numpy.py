# /// snippet
# title = "NumPy: two names, one buffer"
# subsection = "4. In-Place Update Semantics"
# explanation = "y = x does not copy: writing through x changes what y sees."
# expect = { outcome = "ok", stdout = "y[0] = 10" }
# changes = "Not in the guide: NumPy's aliasing, the behaviour JAX avoids."
# ///
import numpy as np
x = np.array([1, 2, 3])
y = x
x[0] = 10
print("y[0] =", y[0])  # 10: y is the same array
