# /// snippet
# title = "NumPy: np.random.seed()"
# subsection = "Random state"
# explanation = "Seed the global generator once; each call then draws new numbers from it."
# expect = { outcome = "ok", stdout = "different: True" }
# changes = "The table's one-liner made runnable (with a seed value)."
# ///
import numpy as np
np.random.seed(0)
a = np.random.uniform(size=2)
b = np.random.uniform(size=2)
print("different:", not np.allclose(a, b))
