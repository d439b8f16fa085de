# /// snippet
# title = "jax.pmap: one slice per device"
# subsection = "4. jax.pmap - Parallel Map"
# explanation = """
# jax.pmap runs the function once per device, each on one slice of the leading axis, which must
# not be longer than the number of devices. On a CPU server the playground fakes 8 devices so
# this runs anywhere. Newer code usually prefers jax.shard_map or jit with shardings.
# """
# entry = "square"
# args = "(jnp.arange(jax.device_count(), dtype=jnp.float32),)"
# transforms = ["pmap", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "devices:" }
# changes = "Added `import jax.numpy as jnp` (missing in the guide), prints of the device count and the result, and an undecorated `square` for the Transform Lab (pmap of an already pmapped function fails)."
# guide_blocks = [4]
# ///
import jax
import jax.numpy as jnp

@jax.pmap
def parallel_fn(x):
    return x**2

# Runs on all available devices
devices = jax.devices()
x = jnp.arange(len(devices))
results = parallel_fn(x)
print("devices:", len(devices))
print(results)

def square(x):
    """The same function without the decorator: wrap it in pmap in the Transform Lab."""
    return x**2
