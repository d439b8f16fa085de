# /// snippet
# title = "Tree operations with jax.tree"
# subsection = "PyTree Operations"
# explanation = """
# jax.tree.map applies a function to every leaf, jax.tree.reduce folds the leaves, and
# jax.tree.flatten / unflatten convert between a pytree and a flat list of leaves plus its
# structure.
# """
# entry = "scale"
# args = "(params,)"
# transforms = ["jit"]
# expect = { outcome = "ok", stdout = "total_params: 61" }
# changes = """
# jax.tree_map, jax.tree_reduce, jax.tree_flatten and jax.tree_unflatten were removed from JAX
# (AttributeError now; see pytree-operations-as-written); this uses jax.tree.map/reduce/flatten/
# unflatten. The guide's block uses params from the previous block; defined here.
# """
# guide_blocks = [44]
# ///
import jax
import jax.numpy as jnp

params = {
    'w1': jnp.ones((10, 5)),
    'b1': jnp.zeros(5),
    'w2': jnp.ones((5, 1)),
    'b2': jnp.zeros(1)
}

# Tree map - apply function to all leaves
scaled_params = jax.tree.map(lambda x: x * 0.9, params)

# Tree reduce
total_params = jax.tree.reduce(
    lambda total, x: total + x.size,
    params,
    initializer=0
)
print("total_params:", total_params)

# Flatten and unflatten
flat, treedef = jax.tree.flatten(params)
reconstructed = jax.tree.unflatten(treedef, flat)
print(treedef)

def scale(p):
    return jax.tree.map(lambda x: jnp.sum(x * 0.9), p)
