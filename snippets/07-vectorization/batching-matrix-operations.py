# /// snippet
# title = "in_axes: which arguments carry the batch"
# subsection = "Batching Matrix Operations"
# explanation = """
# in_axes=(None, 0) shares one matrix across a batch of vectors; (0, 0) pairs a batch of
# matrices with a batch of vectors. The output gains the batch axis in front.
# """
# entry = "matrix_vector_product"
# args = "(jnp.ones((3, 3)), jnp.ones(3))"
# transforms = ["vmap", "jit"]
# expect = { outcome = "ok", stdout = "(10, 3) (10, 3)" }
# changes = "Added imports and a print of the shapes."
# guide_blocks = [41]
# ///
import jax
import jax.numpy as jnp

def matrix_vector_product(matrix, vector):
    """Single matrix-vector product"""
    return matrix @ vector

# Batch over vectors
batch_mvp = jax.vmap(matrix_vector_product, in_axes=(None, 0))

A = jnp.ones((3, 3))
vectors = jnp.ones((10, 3))  # 10 vectors

results = batch_mvp(A, vectors)  # (10, 3)
shape_shared = results.shape

# Batch over both
batch_both = jax.vmap(matrix_vector_product, in_axes=(0, 0))

matrices = jnp.ones((10, 3, 3))
results = batch_both(matrices, vectors)
print(shape_shared, results.shape)
