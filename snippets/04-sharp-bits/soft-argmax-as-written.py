# /// snippet
# title = "The guide's soft argmax, as written: undefined temperature"
# subsection = "6. Gradient Through Discrete Operations"
# explanation = """
# The guide's block defines loss with a `temperature` it never defines. It only fails when the
# function runs, so here grad_loss is called: NameError. The fixed version defines it.
# """
# expect = { outcome = "NameError", message = "temperature" }
# changes = "As the guide writes it, plus imports and a call of grad_loss (the guide never calls it)."
# guide_blocks = [29]
# guide_issue = "`temperature` is never defined: NameError as soon as loss or grad_loss runs."
# ///
import jax
import jax.numpy as jnp

def loss(x):
    # Soft argmax (differentiable)
    weights = jax.nn.softmax(x * temperature)
    return jnp.sum(x * weights)

grad_loss = jax.grad(loss)
grad_loss(jnp.array([1.0, 3.0, 2.0]))
