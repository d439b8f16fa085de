# /// snippet
# title = "JAX: no global seed, a key per call"
# pair_title = "Random state"
# subsection = "Random state"
# explanation = """
# JAX random functions are pure: there is no global state to seed, and calling one without a
# key is a TypeError. Make a key with a seed and split it. Note that the table's
# jax.random.PRNGKey() needs a seed argument too.
# """
# difference = "NumPy draws from a hidden seeded global state; JAX has none, so every random call needs an explicit key (same key, same numbers)."
# expect = { outcome = "TypeError", message = "missing 1 required positional argument: 'key'" }
# changes = "The table's solution `jax.random.PRNGKey()` fails without a seed (TypeError); it is given one. The last line shows what a NumPy habit does in JAX."
# guide_issue = "The table's solution jax.random.PRNGKey() fails: a seed argument is required."
# ///
import jax
key = jax.random.PRNGKey(0)  # Solution (the seed is required)
key, subkey = jax.random.split(key)
print(jax.random.uniform(subkey, shape=(2,)))
jax.random.uniform(shape=(2,))  # ❌ no global state to draw from
