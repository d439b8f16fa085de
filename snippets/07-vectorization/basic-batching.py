# /// snippet
# title = "vmap instead of a Python loop"
# subsection = "Basic Batching"
# explanation = """
# The manual version runs process_single once per element from Python and stacks the results;
# vmap turns it into one batched computation. Same numbers; time both in the Transform Lab.
# """
# entry = "process_single"
# args = "(2.0,)"
# transforms = ["vmap", "jit", "grad"]
# expect = { outcome = "ok", stdout = "[ 4. 10. 18. 28.]" }
# changes = "Added imports and a check that the manual and vmapped versions agree."
# guide_blocks = [40]
# ///
import jax
import jax.numpy as jnp

def process_single(x):
    """Process single example: scalar input"""
    return x**2 + 3*x

# Manually vectorize
def process_batch_manual(xs):
    return jnp.array([process_single(x) for x in xs])

# Automatic vectorization
process_batch = jax.vmap(process_single)

batch = jnp.array([1.0, 2.0, 3.0, 4.0])
print(process_batch(batch))  # Faster and cleaner
print(bool((process_batch(batch) == process_batch_manual(batch)).all()))
