# /// snippet
# title = "Mini-batch training with a jitted step"
# subsection = "Mini-batch Training"
# explanation = """
# One jitted train_step takes the parameters and a batch and returns new parameters and the
# loss; the Python loop only feeds batches. Every batch has the same shape, so it compiles once.
# """
# entry = "train_step"
# args = "(jnp.zeros(3), (jnp.ones((16, 3)), jnp.ones(16)))"
# transforms = ["jit"]
# expect = { outcome = "ok", stdout = "epoch 9" }
# changes = """
# The guide's loop uses data_loader and params that are never defined; here data_loader is a
# list of 8 synthetic batches (y = x @ [1, -2, 0.5] + noise) and params starts at zeros.
# Prints the loss once per epoch.
# """
# guide_blocks = [46]
# guide_issue = "data_loader and params are never defined."
# ///
import jax
import jax.numpy as jnp
import numpy as np

def train_step(params, batch):
    """Single training step on one batch"""
    x, y = batch

    def batch_loss(params):
        pred = jnp.dot(x, params)
        return jnp.mean((pred - y)**2)

    loss_value, grads = jax.value_and_grad(batch_loss)(params)
    params = params - 0.01 * grads
    return params, loss_value

# JIT compile training step
train_step = jax.jit(train_step)

# Synthetic data: 8 batches of 16 examples with 3 features
# (made with NumPy: a data loader usually hands over host arrays)
rng = np.random.default_rng(0)
true_w = np.array([1.0, -2.0, 0.5], dtype=np.float32)
xs = rng.normal(size=(8, 16, 3)).astype(np.float32)
ys = xs @ true_w + 0.01 * rng.normal(size=(8, 16)).astype(np.float32)
data_loader = list(zip(xs, ys))  # 8 (x, y) batches
params = jnp.zeros(3)

# Training loop
for epoch in range(10):
    for batch in data_loader:
        params, loss = train_step(params, batch)
    print(f"epoch {epoch}: loss {loss:.4f}")
print("params:", params)
