# /// snippet
# title = "jax.lax.cond: a branch chosen at run time"
# subsection = "2. Control Flow Limitations"
# explanation = """
# lax.cond compiles both branches and picks one on the device, so it works on tracers. The
# operands come after the two branch functions. For elementwise choices jnp.where is simpler.
# """
# entry = "conditional"
# args = "(2.0,)"
# transforms = ["jit", "grad", "vmap"]
# expect = { outcome = "ok", stdout = "4.0 -8.0" }
# changes = "Fixed a bug: the guide's call passes no operand after the branches, so cond fails with a TypeError (the branches take x). Added imports and calls."
# guide_blocks = [20]
# ///
import jax

@jax.jit
def conditional(x):
    return jax.lax.cond(
        x > 0,
        lambda x: x**2,  # True branch
        lambda x: x**3,  # False branch
        x,               # operand: missing in the guide
    )

print(conditional(2.0), conditional(-2.0))
