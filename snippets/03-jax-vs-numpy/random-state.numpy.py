# /// snippet
# title = "NumPy: one hidden global random state"
# subsection = "2. Random Number Generation"
# explanation = """
# np.random keeps a global generator: seed it once and every call advances it, so two calls
# give different numbers. Convenient, but the result depends on everything that ran before.
# """
# expect = { outcome = "ok", stdout = "x differs from y: True" }
# changes = "Added a print that shows x and y differ."
# guide_blocks = [9]
# ///
import numpy as np
np.random.seed(42)
x = np.random.normal(size=3)
y = np.random.normal(size=3)  # Different from x
print(x, y)
print("x differs from y:", not np.allclose(x, y))
