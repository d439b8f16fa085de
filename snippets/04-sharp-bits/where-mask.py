# /// snippet
# title = "jnp.where keeps the shape static"
# subsection = "3. Dynamic Shapes"
# explanation = """
# Instead of dropping masked elements, replace them: jnp.where(mask, x, 0) has x's shape
# whatever the mask says, so it compiles once and works under jit, grad and vmap.
# """
# entry = "static_shape"
# args = "(jnp.arange(4.0), jnp.array([True, False, True, True]))"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "[0. 0. 2. 3.]" }
# changes = "Added imports and a call."
# guide_blocks = [24]
# ///
import jax
import jax.numpy as jnp

@jax.jit
def static_shape(x, mask):
    return jnp.where(mask, x, 0)  # Shape stays same

print(static_shape(jnp.arange(4.0), jnp.array([True, False, True, True])))
