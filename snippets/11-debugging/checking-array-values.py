# /// snippet
# title = "jax.debug.print: values, shapes and dtypes under jit"
# subsection = "Checking Array Values"
# explanation = """
# Inside jit, jax.debug.print shows runtime values. Shapes and dtypes are static, known at trace
# time: pass them as arguments and debug.print turns the shape's ints into arrays, printing
# "(Array(3, dtype=int32),)"; format them into the string with an f-string instead.
# """
# entry = "debug_fn"
# args = "(jnp.arange(3.0),)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "x shape = (3,), dtype = float32" }
# changes = "Added imports and a call (the guide only defines debug_fn). The guide's shape line prints x shape = (Array(3, dtype=int32),); kept, plus an f-string version that prints (3,)."
# guide_blocks = [54]
# guide_issue = "Passing x.shape to jax.debug.print prints (Array(3, dtype=int32),), not (3,); format static values with an f-string."
# ///
import jax
import jax.numpy as jnp

# Use jax.debug.print in JIT context
@jax.jit
def debug_fn(x):
    jax.debug.print("x = {}", x)
    jax.debug.print("x shape = {}, dtype = {}", x.shape, x.dtype)  # shape ints become arrays
    jax.debug.print(f"x shape = {x.shape}, dtype = {x.dtype}")  # static: format at trace time
    return x**2

debug_fn(jnp.arange(3.0))
