# /// snippet
# title = "An RNN with lax.scan"
# subsection = "RNN with Scan"
# explanation = """
# The hidden state is the carry; each step reads one input vector and emits the new state.
# scan returns the final state and the stacked states, one per time step.
# """
# entry = "rnn"
# args = "(jnp.ones((10, 3)), jnp.zeros(5))"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "(10, 5)" }
# changes = "Added imports and a print of the output shape."
# guide_blocks = [48]
# ///
import jax
import jax.numpy as jnp

def rnn_step(carry, x):
    """Single RNN step"""
    h = carry
    h_new = jnp.tanh(jnp.dot(W_h, h) + jnp.dot(W_x, x))
    return h_new, h_new

def rnn(xs, h0):
    """Run RNN over sequence"""
    final_h, all_h = jax.lax.scan(rnn_step, h0, xs)
    return all_h

# Process sequence
W_h = jnp.ones((5, 5))
W_x = jnp.ones((5, 3))
xs = jnp.ones((10, 3))  # Sequence length 10
h0 = jnp.zeros(5)

outputs = rnn(xs, h0)  # (10, 5)
print(outputs.shape)
