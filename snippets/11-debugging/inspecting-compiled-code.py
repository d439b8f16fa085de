# /// snippet
# title = "See the jaxpr and the compiled HLO"
# subsection = "Inspecting Compiled Code"
# explanation = """
# make_jaxpr shows the traced program in JAX's own language; jit(f).lower(...) gives StableHLO
# and .compile() the optimised XLA HLO for this backend. The Transform Lab shows all three for
# any snippet's function.
# """
# entry = "f"
# args = "(1.0,)"
# transforms = ["jit", "grad", "vmap"]
# expect = { outcome = "ok", stdout = "{ lambda" }
# changes = "Added imports."
# guide_blocks = [56]
# ///
import jax

# See jaxpr (intermediate representation)
def f(x):
    return x**2 + 3*x

jaxpr = jax.make_jaxpr(f)(1.0)
print(jaxpr)

# See HLO (low-level compiled code)
compiled = jax.jit(f).lower(1.0).compile()
print(compiled.as_text())
