# /// snippet
# title = "Basic gradient"
# subsection = "Basic Gradient"
# explanation = "jax.grad(f) is a new function; call it where you would call f to get df/dx."
# entry = "f"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["grad", "value_and_grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[2. 4. 6.]" }
# guide_blocks = [30]
# ///
import jax
import jax.numpy as jnp

def f(x):
    return jnp.sum(x**2)

grad_f = jax.grad(f)

x = jnp.array([1.0, 2.0, 3.0])
print(grad_f(x))  # [2. 4. 6.]
