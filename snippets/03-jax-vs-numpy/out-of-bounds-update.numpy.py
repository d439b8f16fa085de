# /// snippet
# title = "NumPy: out-of-bounds assignment raises"
# subsection = "4. Out-of-Bounds Indexing"
# explanation = "Writing past the end of a NumPy array raises IndexError too."
# expect = { outcome = "IndexError", message = "out of bounds" }
# changes = "Not in the guide: the NumPy side of its 'updates also silently ignored' line."
# ///
import numpy as np
x = np.array([1, 2, 3])
x[10] = 99  # IndexError
