# /// snippet
# title = "jax.core names removed in JAX 0.11: new_jaxpr_eqn and friends"
# subsection = "Changes between JAX versions"
# explanation = """
# Tutorials and libraries from the JAX 0.4 days reach into jax.core for the pieces of a jaxpr.
# JAX 0.4 allowed it silently; later releases warn (DeprecationWarning: use jax.extend.core), and
# JAX 0.11 removed many of the names: the same line now fails with AttributeError. The public home
# is jax.extend.core (jax.extend.core.new_jaxpr_eqn), which JAX 0.4.38 does not have yet: code
# that must run on both looks the name up in jax.extend.core first. "Compare versions" shows the
# three outcomes: silent, warned, removed.
# """
# expect = { outcome = "AttributeError", message = "new_jaxpr_eqn" }
# versions = [{ until = "0.11", expect = { outcome = "ok", stdout = "jax.core.new_jaxpr_eqn is still here" } }]
# ///
import jax

# As a 0.4-era tutorial writes it:
make_eqn = jax.core.new_jaxpr_eqn
print("jax.core.new_jaxpr_eqn is still here on JAX", jax.__version__)
