# /// snippet
# title = "Auxiliary outputs: has_aux"
# subsection = "Auxiliary Data"
# explanation = """
# A function may return (loss, extras). With has_aux=True, grad differentiates the loss only
# and hands the extras back untouched: handy for metrics.
# """
# entry = "loss_with_aux"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "Gradient: [2. 4. 6.]" }
# changes = "The guide's block uses an x it never defines (defined here), and imports added."
# guide_blocks = [33]
# guide_issue = "Uses an x that the block never defines."
# ///
import jax
import jax.numpy as jnp

x = jnp.array([1.0, 2.0, 3.0])

def loss_with_aux(x):
    loss = jnp.sum(x**2)
    aux_data = {'norm': jnp.linalg.norm(x), 'mean': jnp.mean(x)}
    return loss, aux_data

# Tell JAX about auxiliary output
grad_fn = jax.grad(loss_with_aux, has_aux=True)
gradient, aux = grad_fn(x)

print(f"Gradient: {gradient}")
print(f"Auxiliary: {aux}")
