# /// snippet
# title = "NumPy: if on a value works"
# subsection = "Value-dependent if"
# explanation = "Plain Python branches on concrete values."
# entry = "relu"
# args = "(np.float32(-1.0),)"
# expect = { outcome = "ok", stdout = "0.0 2.0" }
# changes = "The table's cell made runnable."
# ///
import numpy as np

def relu(x):
    if x > 0:
        return x
    return np.float32(0.0)

print(relu(np.float32(-1.0)), relu(np.float32(2.0)))
