# /// snippet
# title = "lax.scan: a loop that carries state"
# subsection = "Scan for Efficient Loops"
# explanation = """
# scan(step, init, xs) calls step(carry, x) for each x, threading the carry and stacking the
# outputs: one compiled loop body instead of an unrolled Python loop. A cumulative sum is the
# simplest example.
# """
# entry = "cumulative_sum"
# args = "(jnp.array([1, 2, 3, 4, 5]),)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "[ 1  3  6 10 15]" }
# changes = "Added imports (the guide's block uses jnp and jax without importing them)."
# guide_blocks = [47]
# ///
import jax
import jax.numpy as jnp

def cumulative_sum(xs):
    """Efficient cumulative sum using scan"""
    def step(carry, x):
        new_carry = carry + x
        output = new_carry
        return new_carry, output

    final_carry, outputs = jax.lax.scan(step, 0, xs)
    return outputs

xs = jnp.array([1, 2, 3, 4, 5])
print(cumulative_sum(xs))  # [ 1  3  6 10 15]
