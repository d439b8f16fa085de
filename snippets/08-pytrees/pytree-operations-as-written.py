# /// snippet
# title = "The guide's tree functions, as written: removed"
# subsection = "PyTree Operations"
# explanation = """
# jax.tree_map and its siblings were deprecated and then removed. On current JAX the first line
# fails with AttributeError; the jax.tree module (previous snippet) is the replacement.
# """
# expect = { outcome = "AttributeError", message = "has no attribute 'tree_map'" }
# versions = [{ until = "0.6", expect = { outcome = "AttributeError", message = "has no attribute 'tree_reduce'" } }]
# changes = "Exactly the guide's block (plus imports and params), to show the error on this JAX."
# guide_blocks = [44]
# guide_issue = "jax.tree_map, jax.tree_reduce, jax.tree_flatten and jax.tree_unflatten no longer exist (AttributeError); use jax.tree.map/reduce/flatten/unflatten."
# ///
import jax
import jax.numpy as jnp

params = {'w1': jnp.ones((10, 5)), 'b1': jnp.zeros(5)}

# Tree map - apply function to all leaves
scaled_params = jax.tree_map(lambda x: x * 0.9, params)

# Tree reduce
total_params = jax.tree_reduce(
    lambda total, x: total + x.size,
    params,
    initializer=0
)

# Flatten and unflatten
flat, treedef = jax.tree_flatten(params)
reconstructed = jax.tree_unflatten(treedef, flat)
