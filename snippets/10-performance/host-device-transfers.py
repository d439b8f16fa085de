# /// snippet
# title = "Keep values on the device inside loops"
# subsection = "3. Minimize Host-Device Transfers"
# explanation = """
# float(x) waits for the device and copies the value to the host. Doing it every iteration
# serialises the loop on those round trips; doing it once at the end lets JAX queue the work
# asynchronously. On CPU the difference is small; on a GPU or TPU it is large.
# """
# entry = "compute_on_gpu"
# args = "(jnp.float32(1.0),)"
# transforms = ["jit", "grad", "vmap"]
# expect = { outcome = "ok", stdout = "last value:" }
# changes = "The guide never defines compute_on_gpu; here it is a small jitted update. Loops shrunk from 1000 to 100 iterations (fast enough for a shared playground), and the per-iteration prints replaced by a sum so the output stays short."
# guide_blocks = [51]
# guide_issue = "compute_on_gpu is never defined."
# ///
import jax
import jax.numpy as jnp

@jax.jit
def compute_on_gpu(x):
    return jnp.cos(x) * 0.5 + 0.5

# Bad: Transfer back to host in loop
x = jnp.float32(1.0)
total = 0.0
for i in range(100):
    x = compute_on_gpu(x)
    total += float(x)  # Transfers to the host each iteration!

# Good: Transfer once at end
x = jnp.float32(1.0)
for i in range(100):
    x = compute_on_gpu(x)
print("last value:", float(x))  # Single transfer
