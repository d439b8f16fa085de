# /// snippet
# title = "Preallocate, or better, vmap"
# subsection = "5. Preallocate When Possible"
# explanation = """
# jnp.append copies the whole array each time and every new length is a new shape, so each
# step may compile again. Preallocating and filling with .at[i].set keeps one shape; computing
# everything at once with vmap (or scan) does it in one batched call.
# """
# entry = "compute_all"
# args = "(jnp.float32(3.0),)"
# transforms = ["vmap", "jit", "grad"]
# expect = { outcome = "ok", stdout = "all three agree: True" }
# changes = "The guide never defines compute; here it is a small function of i. Loops shrunk from 1000 to 10 iterations: growing with jnp.append compiles once per length, which takes seconds at 1000."
# guide_blocks = [53]
# guide_issue = "compute is never defined, and growing with jnp.append 1000 times compiles once per new length: 1000 compilations."
# ///
import jax
import jax.numpy as jnp

N = 10  # the guide uses 1000

def compute(i):
    return jnp.sin(i) ** 2

# Bad: Growing arrays
result = jnp.array([])
for i in range(N):
    result = jnp.append(result, compute(i))
grown = result

# Good: Preallocate
result = jnp.zeros(N)
for i in range(N):
    result = result.at[i].set(compute(i))
preallocated = result

# Better: Use scan or vmap
def compute_all(i):
    return compute(i)

result = jax.vmap(compute_all)(jnp.arange(N))
print("all three agree:", bool(jnp.allclose(grown, preallocated) and jnp.allclose(grown, result)))
