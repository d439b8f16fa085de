# /// snippet
# title = "Gradients of a dict of parameters"
# subsection = "PyTrees - Nested Structures"
# explanation = """
# Nested lists, tuples and dicts of arrays are pytrees, and every transformation accepts them:
# grad of a loss over a dict of weights returns a dict of gradients with the same keys and
# shapes. Note that JAX flattens dicts in sorted key order.
# """
# entry = "loss"
# args = "(params, jnp.ones((32, 10)))"
# transforms = ["grad", "value_and_grad", "jit"]
# expect = { outcome = "ok", stdout = "dict_keys(['b1', 'b2', 'w1', 'w2'])" }
# changes = "The guide's comment shows dict_keys(['w1', 'b1', 'w2', 'b2']); JAX returns the gradient dict with sorted keys, so the real output is ['b1', 'b2', 'w1', 'w2']."
# guide_blocks = [43]
# guide_issue = "The printed keys are sorted (['b1', 'b2', 'w1', 'w2']), not in insertion order as the comment shows."
# ///
import jax
import jax.numpy as jnp

# Dictionary of arrays
params = {
    'w1': jnp.ones((10, 5)),
    'b1': jnp.zeros(5),
    'w2': jnp.ones((5, 1)),
    'b2': jnp.zeros(1)
}

# Gradient works on entire pytree
def loss(params, x):
    h = x @ params['w1'] + params['b1']
    h = jax.nn.relu(h)
    out = h @ params['w2'] + params['b2']
    return jnp.mean(out**2)

grad_fn = jax.grad(loss)
x = jnp.ones((32, 10))

# Returns gradients in same structure
grads = grad_fn(params, x)
print(grads.keys())  # dict_keys(['b1', 'b2', 'w1', 'w2']): sorted, not insertion order
print({k: v.shape for k, v in grads.items()})
