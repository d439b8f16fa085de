# /// snippet
# title = "grad, jit and vmap compose"
# subsection = "Transformation Composition"
# explanation = """
# Transformations are functions from functions to functions, so they stack in any order that
# makes sense: grad of a jitted function, jit of a gradient, vmap of a gradient (a per-example
# gradient), or all three. The results agree; only the speed differs.
# """
# entry = "fast_loss"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["grad", "value_and_grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[[2. 4.]" }
# changes = "Added the imports the guide's block lacks and calls on example inputs, so each composition actually runs and prints."
# guide_blocks = [5]
# ///
import jax
import jax.numpy as jnp

# Gradient of JIT-compiled function
@jax.jit
def fast_loss(x):
    return jnp.sum(x**2)

grad_fast_loss = jax.grad(fast_loss)

# JIT of gradient (equally valid)
fast_grad_loss = jax.jit(jax.grad(fast_loss))

# Vectorized gradient
batch_grad_loss = jax.vmap(jax.grad(fast_loss))

# JIT + vmap + grad
fast_batch_grad = jax.jit(jax.vmap(jax.grad(fast_loss)))

x = jnp.array([1.0, 2.0, 3.0])
batch = jnp.array([[1.0, 2.0], [3.0, 4.0]])
print(grad_fast_loss(x))    # [2. 4. 6.]
print(fast_grad_loss(x))    # [2. 4. 6.]
print(batch_grad_loss(batch))  # one gradient per row
print(fast_batch_grad(batch))  # [[2. 4.] [6. 8.]]
