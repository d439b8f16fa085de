# /// snippet
# title = "Value and gradient in one pass"
# subsection = "Value and Gradient"
# explanation = """
# jax.value_and_grad returns f(x) and its gradient together, sharing the forward pass: the
# usual way to get a training loss and its gradient.
# """
# entry = "f"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["value_and_grad", "grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "Value: 14.0, Gradient: [2. 4. 6.]" }
# changes = "The guide's block uses f and x from the previous block; they are defined here."
# guide_blocks = [31]
# guide_issue = "Uses f and x from the previous block; not runnable on its own."
# ///
import jax
import jax.numpy as jnp

def f(x):
    return jnp.sum(x**2)

x = jnp.array([1.0, 2.0, 3.0])

# Compute both value and gradient efficiently
value_and_grad_f = jax.value_and_grad(f)

value, gradient = value_and_grad_f(x)
print(f"Value: {value}, Gradient: {gradient}")
