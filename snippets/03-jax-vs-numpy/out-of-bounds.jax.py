# /// snippet
# title = "JAX: out-of-bounds reads clamp, updates are dropped"
# pair_title = "Out-of-bounds indexing"
# subsection = "4. Out-of-Bounds Indexing"
# explanation = """
# Code on an accelerator cannot raise, so JAX clamps an out-of-bounds read to the last (or
# first) element and drops an out-of-bounds update. No error at all: validate indices yourself,
# or ask for another mode, e.g. x.at[i].get(mode="fill", fill_value=...).
# """
# entry = "read"
# args = "(jnp.array([1, 2, 3]), 10)"
# transforms = ["jit", "vmap"]
# difference = "NumPy raises IndexError; JAX returns the clamped element for a read and silently ignores an update, with no error."
# expect = { outcome = "ok", stdout = "after update: [1 2 3]" }
# changes = "Added prints for the update and a negative index, and mode='fill' as the explicit alternative."
# guide_blocks = [14]
# ///
import jax.numpy as jnp
x = jnp.array([1, 2, 3])
print(x[10])  # 3 (returns last element, no error!)
print(x[-10])  # 1 (clamped to the first element)

# Updates also silently ignored
x = x.at[10].set(99)  # No error, no effect
print("after update:", x)

print(x.at[10].get(mode="fill", fill_value=-1))  # -1: say what you want instead

def read(a, i):
    return a[i]
