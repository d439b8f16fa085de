# /// snippet
# title = "JAX: .at[] never touches other references"
# pair_title = "Shared references"
# subsection = "4. In-Place Update Semantics"
# explanation = """
# x.at[0].set(10) builds a new array and rebinds x; y still names the old, unchanged array.
# With immutable arrays there is no aliasing to worry about.
# """
# difference = "In NumPy y sees the write through x (10); in JAX y keeps the old value (1) because .at[] returns a new array."
# expect = { outcome = "ok", stdout = "y[0] = 1" }
# changes = "Added the import (missing in the guide)."
# guide_blocks = [25]
# ///
import jax.numpy as jnp
x = jnp.array([1, 2, 3])
y = x
x = x.at[0].set(10)
print("y[0] =", y[0])  # Still 1 (y unchanged)
