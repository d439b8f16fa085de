# /// snippet
# title = "NumPy: IndexError"
# subsection = "Out-of-bounds"
# explanation = "Indexing past the end raises."
# expect = { outcome = "IndexError", message = "out of bounds" }
# changes = "The table's cell made runnable."
# ///
import numpy as np
np.arange(3)[5]
