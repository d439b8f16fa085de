# /// snippet
# title = "NumPy: out-of-bounds index raises"
# subsection = "4. Out-of-Bounds Indexing"
# explanation = "Reading past the end of a NumPy array raises IndexError."
# expect = { outcome = "IndexError", message = "index 10 is out of bounds" }
# changes = "The guide comments out x[10]; here it runs, so you see NumPy's real error."
# guide_blocks = [13]
# ///
import numpy as np
x = np.array([1, 2, 3])
x[10]  # IndexError
