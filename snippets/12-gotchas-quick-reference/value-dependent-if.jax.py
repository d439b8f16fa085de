# /// snippet
# title = "JAX: if on a traced value fails in jit"
# pair_title = "Value-dependent if"
# subsection = "Value-dependent if"
# explanation = "Under jit the value is a tracer; jax.lax.cond (the solution, run first) chooses on the device."
# difference = "Python's if works on NumPy values; under jit it raises TracerBoolConversionError, and jax.lax.cond is the fix."
# expect = { outcome = "TracerBoolConversionError", message = "Attempted boolean conversion" }
# changes = "The table's cells made runnable: the solution first, then the failing version."
# ///
import jax

@jax.jit
def relu_cond(x):
    return jax.lax.cond(x > 0, lambda v: v, lambda v: 0.0 * v, x)  # Solution

print(relu_cond(-1.0), relu_cond(2.0))

@jax.jit
def relu(x):
    if x > 0:  # ❌ In JIT
        return x
    return 0.0 * x

relu(-1.0)
