# /// snippet
# title = "jax.grad through argmax: one-hot, not zero"
# pair_title = "Gradient through argmax"
# subsection = "6. Gradient Through Discrete Operations"
# explanation = """
# The guide says the gradient of x[argmax(x)] is zero everywhere. It is not: the gradient flows
# through the selected value and is one-hot at the maximum. What gets no gradient is the index:
# a loss that depends on x only through argmax (a hard choice) has zero gradient, so nothing
# learns which element should win. That is why soft versions exist (next snippet).
# """
# entry = "loss"
# args = "(jnp.array([1.0, 3.0, 2.0]),)"
# transforms = ["grad", "jit", "vmap"]
# difference = "NumPy can only estimate gradients numerically; jax.grad gives the exact same answer: one-hot through the selected value, zero through the index itself."
# expect = { outcome = "ok", stdout = "through the index: [0. 0. 0.]" }
# changes = """
# The guide comments the grad call out and claims the gradient is zero everywhere; on JAX it is
# one-hot ([0. 1. 0.]). The call runs here, and a loss that uses only the index shows the real
# zero gradient.
# """
# guide_blocks = [28]
# guide_issue = "The gradient of x[argmax(x)] is not zero everywhere: it is one-hot at the maximum; only the index itself gets no gradient."
# ///
import jax
import jax.numpy as jnp

def loss(x):
    idx = jnp.argmax(x)  # Discrete - no gradient through idx
    return x[idx]

def index_only(x):
    return jnp.argmax(x).astype(jnp.float32)

grad_loss = jax.grad(loss)
x = jnp.array([1.0, 3.0, 2.0])
print("through the value:", grad_loss(x))  # [0. 1. 0.], not zero
print("through the index:", jax.grad(index_only)(x))  # [0. 0. 0.]
