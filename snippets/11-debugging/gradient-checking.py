# /// snippet
# title = "Check gradients numerically"
# subsection = "Gradient Checking"
# explanation = """
# jax.test_util.check_grads compares JAX's derivatives with finite differences, up to the given
# order, in forward and reverse mode, and raises if they disagree. It prints nothing on success.
# """
# entry = "f"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "gradients check out" }
# changes = "Added the jnp import and a print after the check."
# guide_blocks = [55]
# ///
import jax.numpy as jnp
from jax.test_util import check_grads

def f(x):
    return jnp.sum(x**3)

x = jnp.array([1.0, 2.0, 3.0])

# Verify gradients numerically
check_grads(f, (x,), order=2)  # Check 1st and 2nd derivatives
print("gradients check out")
