# /// snippet
# title = "Gradients with several arguments: argnums"
# subsection = "Multiple Arguments"
# explanation = """
# grad differentiates with respect to the first argument unless argnums says otherwise; a tuple
# of argnums returns a tuple of gradients.
# """
# entry = "f"
# args = "(jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0]))"
# transforms = ["grad", "value_and_grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[27. 48.]" }
# changes = "The guide's block uses x and y that no block defines; they are defined here. Added imports and a print of both gradients."
# guide_blocks = [32]
# guide_issue = "Uses x and y that no block defines."
# ///
import jax
import jax.numpy as jnp

x = jnp.array([1.0, 2.0])
y = jnp.array([3.0, 4.0])

def f(x, y):
    return jnp.sum(x**2 + y**3)

# Gradient w.r.t. first argument (default)
grad_f = jax.grad(f)
print(grad_f(x, y))  # 2x = [2. 4.]

# Gradient w.r.t. second argument
grad_f_wrt_y = jax.grad(f, argnums=1)
print(grad_f_wrt_y(x, y))  # 3y^2 = [27. 48.]

# Gradients w.r.t. both arguments
grad_f_both = jax.grad(f, argnums=(0, 1))
grad_x, grad_y = grad_f_both(x, y)
print(grad_x, grad_y)
