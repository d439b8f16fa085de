# /// snippet
# title = "Key management: never reuse a key"
# subsection = "2. Random Number Generation"
# explanation = """
# Split the key before every use and keep the new key for later. Reusing a key silently repeats
# the same numbers: the last lines show it.
# """
# expect = { outcome = "ok", stdout = "reused key repeats: True" }
# changes = "Added `import jax` (missing in the guide) and a demonstration of what reusing a key does."
# guide_blocks = [11]
# ///
import jax

# Create initial key
key = jax.random.PRNGKey(0)

# Always split before using
key, subkey1, subkey2 = jax.random.split(key, 3)

# Use subkeys for random operations
x = jax.random.normal(subkey1, shape=(10,))
y = jax.random.uniform(subkey2, shape=(10,))
print(x[:3], y[:3])

# Never reuse keys! Same key, same numbers:
a = jax.random.normal(subkey1, shape=(10,))
print("reused key repeats:", bool((a == x).all()))
