# /// snippet
# title = "jax.grad: the gradient of a function"
# subsection = "1. jax.grad - Automatic Differentiation"
# explanation = """
# jax.grad takes a function that returns a scalar and gives back a new function that returns
# its gradient, computed by reverse-mode autodiff. For sum(x**2) the gradient is 2x.
# """
# entry = "loss"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["grad", "value_and_grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[2. 4. 6.]" }
# guide_blocks = [1]
# ///
import jax
import jax.numpy as jnp

def loss(x):
    return jnp.sum(x**2)

# Get gradient function
grad_loss = jax.grad(loss)

x = jnp.array([1.0, 2.0, 3.0])
gradient = grad_loss(x)
print(gradient)  # [2. 4. 6.]
