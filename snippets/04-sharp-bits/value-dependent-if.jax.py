# /// snippet
# title = "jit: if on a traced value fails"
# pair_title = "Value-dependent if"
# subsection = "2. Control Flow Limitations"
# explanation = """
# Under jit, x is a tracer: an abstract float32[] with no value yet. Python's if needs a real
# bool, so JAX raises TracerBoolConversionError. Use jax.lax.cond or jnp.where, or mark the
# argument static if it really is a compile-time constant.
# """
# difference = "Without jit the if runs on a real number; under jit x is a tracer and `if x > 0` raises TracerBoolConversionError."
# expect = { outcome = "TracerBoolConversionError", message = "Attempted boolean conversion of traced array" }
# changes = "The guide only defines the function; here it is also called, which is when the error happens. Added `import jax`."
# guide_blocks = [19]
# ///
import jax

@jax.jit
def conditional(x):
    if x > 0:  # ERROR: x is tracer, not concrete value
        return x**2
    else:
        return x**3

conditional(2.0)
