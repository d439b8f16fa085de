# /// snippet
# title = "JAX: an out-of-bounds update is dropped"
# pair_title = "Out-of-bounds updates"
# subsection = "4. Out-of-Bounds Indexing"
# explanation = """
# x.at[10].set(99) on a 3-element array returns the array unchanged: the update is dropped
# (mode="drop" is the default for updates). Nothing tells you it happened.
# """
# difference = "NumPy raises IndexError on the write; JAX returns an unchanged copy without any error."
# expect = { outcome = "ok", stdout = "unchanged: True" }
# guide_blocks = [14]
# ///
import jax.numpy as jnp
x = jnp.array([1, 2, 3])
y = x.at[10].set(99)  # No error, no effect
print(y)
print("unchanged:", bool((x == y).all()))
