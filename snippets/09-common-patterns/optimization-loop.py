# /// snippet
# title = "A gradient-descent loop"
# subsection = "Optimization Loop"
# explanation = """
# Jit the gradient once, then loop in Python: each step is one call of a compiled function.
# The data are 100 examples of 3 features, so the prediction is x @ params.
# """
# entry = "loss"
# args = "(jnp.array([1.0, 2.0, 3.0]), jnp.ones((100, 3)), jnp.ones(100))"
# transforms = ["grad", "value_and_grad", "jit"]
# expect = { outcome = "ok", stdout = "Step 900, Loss: 0.0000" }
# changes = """
# Shape bug fixed: the guide computes jnp.dot(params, x) with params (3,) and x (100, 3), which
# fails with a TypeError (see optimization-loop-as-written); the prediction is jnp.dot(x, params).
# The 1000 steps are kept: each is one small compiled call.
# """
# guide_blocks = [45]
# ///
import jax
import jax.numpy as jnp

# Parameters
params = jnp.array([1.0, 2.0, 3.0])

# Loss function
def loss(params, x, y):
    pred = jnp.dot(x, params)  # the guide has jnp.dot(params, x): (3,) . (100, 3) fails
    return jnp.mean((pred - y)**2)

# Gradient function
grad_fn = jax.jit(jax.grad(loss))

# Training data
x_train = jnp.ones((100, 3))
y_train = jnp.ones(100)

# Optimization loop
learning_rate = 0.01
for step in range(1000):
    grads = grad_fn(params, x_train, y_train)
    params = params - learning_rate * grads

    if step % 100 == 0:
        l = loss(params, x_train, y_train)
        print(f"Step {step}, Loss: {l:.4f}")
