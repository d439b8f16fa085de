# /// snippet
# title = "NumPy: np.sum([1,2,3])"
# subsection = "List inputs"
# explanation = "NumPy converts the list for you."
# expect = { outcome = "ok", stdout = "6" }
# changes = "The table's one-liner made runnable."
# ///
import numpy as np
print(np.sum([1, 2, 3]))
