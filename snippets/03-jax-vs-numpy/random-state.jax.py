# /// snippet
# title = "JAX: explicit keys, split before each use"
# pair_title = "Random state"
# subsection = "2. Random Number Generation"
# explanation = """
# JAX has no global random state: every random function takes a key, and the same key always
# gives the same numbers. Split a key to get fresh, independent subkeys; split into many keys
# and vmap to draw in parallel.
# """
# entry = "sample"
# args = "(jax.random.key(0),)"
# transforms = ["jit"]
# difference = "NumPy advances a hidden global state on every call; JAX random functions are pure functions of an explicit key, so you split keys to get new numbers and the same key always repeats."
# expect = { outcome = "ok", stdout = "samples: (10, 3)" }
# changes = "Added prints. jax.random.PRNGKey still works; newer code uses jax.random.key, which makes a typed key (used for the Transform Lab's example input)."
# guide_blocks = [10]
# ///
import jax
key = jax.random.PRNGKey(42)

# Split key for independent randomness
key, subkey = jax.random.split(key)
x = jax.random.normal(subkey, shape=(3,))

key, subkey = jax.random.split(key)
y = jax.random.normal(subkey, shape=(3,))
print(x, y)

# Parallel random numbers
keys = jax.random.split(key, num=10)
samples = jax.vmap(lambda k: jax.random.normal(k, shape=(3,)))(keys)
print("samples:", samples.shape)

def sample(k):
    return jax.random.normal(k, shape=(3,))
