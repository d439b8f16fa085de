# /// snippet
# title = "NumPy: boolean masks change the shape"
# subsection = "3. Dynamic Shapes"
# explanation = "x[mask] keeps the selected elements: the output's length depends on the data."
# entry = "dynamic_shape"
# args = "(np.arange(4.0), np.array([True, False, True, True]))"
# expect = { outcome = "ok", stdout = "[0. 2. 3.]" }
# changes = "Not in the guide: the same indexing in NumPy, for comparison."
# ///
import numpy as np

def dynamic_shape(x, mask):
    return x[mask]

print(dynamic_shape(np.arange(4.0), np.array([True, False, True, True])))
