# /// snippet
# title = "A differentiable soft argmax"
# subsection = "6. Gradient Through Discrete Operations"
# explanation = """
# Replace the hard pick with softmax weights: the loss becomes a smooth weighted average that
# approaches max(x) as the temperature grows, and every element gets a gradient.
# """
# entry = "loss"
# args = "(jnp.array([1.0, 3.0, 2.0]),)"
# transforms = ["grad", "value_and_grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "gradient:" }
# changes = "The guide uses an undefined `temperature`; it is defined here (10.0). Added imports and a call of grad_loss, which the guide never makes."
# guide_blocks = [29]
# ///
import jax
import jax.numpy as jnp

temperature = 10.0  # higher: closer to a hard max

def loss(x):
    # Soft argmax (differentiable)
    weights = jax.nn.softmax(x * temperature)
    return jnp.sum(x * weights)

grad_loss = jax.grad(loss)
x = jnp.array([1.0, 3.0, 2.0])
print("loss:", loss(x))
print("gradient:", grad_loss(x))
