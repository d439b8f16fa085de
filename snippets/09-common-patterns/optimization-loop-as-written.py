# /// snippet
# title = "The guide's optimisation loop, as written: shape bug"
# subsection = "Optimization Loop"
# explanation = """
# jnp.dot(params, x) contracts params' only axis (3) with x's first axis (100): the shapes do
# not line up, and the first gradient call raises a TypeError naming both.
# """
# expect = { outcome = "TypeError", message = "dot_general requires contracting dimensions to have the same shape" }
# changes = "Exactly the guide's block, shortened to the first step, to show the error on this JAX."
# guide_blocks = [45]
# guide_issue = "Shape bug: jnp.dot(params, x) with params (3,) and x (100, 3) raises TypeError; the prediction is jnp.dot(x, params)."
# ///
import jax
import jax.numpy as jnp

params = jnp.array([1.0, 2.0, 3.0])

def loss(params, x, y):
    pred = jnp.dot(params, x)
    return jnp.mean((pred - y)**2)

grad_fn = jax.jit(jax.grad(loss))

x_train = jnp.ones((100, 3))
y_train = jnp.ones(100)

grads = grad_fn(params, x_train, y_train)
