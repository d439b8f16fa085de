# /// snippet
# title = "jnp.empty: zeros until JAX 0.11, uninitialised memory since"
# subsection = "Changes between JAX versions"
# explanation = """
# Code written on JAX 0.10 or earlier often used jnp.empty where it meant jnp.zeros: the array came
# back filled with zeros, because jnp.empty lowered to a broadcast of 0. Since JAX 0.11 it lowers
# to an `empty` primitive, as in NumPy: the contents are whatever the buffer held. A small array
# may still print as zeros by luck, so the jaxpr is what tells the versions apart. Write jnp.zeros
# when you read the values; choose "Compare versions" to see both jaxprs side by side.
# """
# expect = { outcome = "ok", stdout = "jnp.empty promises zeros: False" }
# versions = [{ until = "0.11", expect = { outcome = "ok", stdout = "jnp.empty promises zeros: True" } }]
# ///
import jax
import jax.numpy as jnp

jaxpr = jax.make_jaxpr(lambda: jnp.empty(3))()
print(jaxpr)
# Before 0.11 the program is "broadcast 0.0": the zeros are part of what JAX promised.
print("jnp.empty promises zeros:", "broadcast_in_dim" in str(jaxpr))

# What to write instead, on every version:
print(jnp.zeros(3))
