# /// snippet
# title = "Custom gradients"
# subsection = "Custom Gradients"
# explanation = """
# jax.custom_gradient lets the function return its value and its own backward rule. Here the
# rule doubles the true gradient of exp, so grad_f(1.0) is 2e, not e. Current code usually uses
# jax.custom_vjp (or custom_jvp), which also work under jit and vmap.
# """
# entry = "f"
# args = "(1.0,)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "grad_f(1.0) = 5.43656" }
# changes = "Added imports and a call of grad_f (the guide never calls it), with jax.custom_vjp giving the same result."
# guide_blocks = [36]
# ///
import jax
import jax.numpy as jnp

@jax.custom_gradient
def f(x):
    # Forward pass
    result = jnp.exp(x)

    # Define custom gradient
    def grad_fn(g):
        # g is the gradient from downstream
        # Return gradient w.r.t. inputs
        return g * 2 * result  # Custom: 2x the normal gradient

    return result, grad_fn

# Use like normal
grad_f = jax.grad(f)
print(f"grad_f(1.0) = {grad_f(1.0):.5f}")  # 2e = 5.43656

# The same rule with jax.custom_vjp
@jax.custom_vjp
def g(x):
    return jnp.exp(x)

def g_fwd(x):
    result = jnp.exp(x)
    return result, result

def g_bwd(result, grad_out):
    return (grad_out * 2 * result,)

g.defvjp(g_fwd, g_bwd)
print(f"custom_vjp: {jax.grad(g)(1.0):.5f}")
