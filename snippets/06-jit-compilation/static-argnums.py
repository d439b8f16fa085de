# /// snippet
# title = "static_argnums: compile once per value"
# subsection = "Static Arguments"
# explanation = """
# static_argnums=(1,) makes n part of the compilation key: it is a plain Python int inside the
# function, so range(n) works, and each new n compiles a new version (watch the trace count).
# Use it for values that pick the program's structure, not for data.
# """
# entry = "fn_static"
# args = "(jnp.zeros(3), 5)"
# transforms = []
# expect = { outcome = "ok", stdout = "traces: 2" }
# versions = [{ until = "0.8.1", expect = { outcome = "TypeError", message = "missing 1 required positional argument: 'fun'" } }]
# changes = "The second half of the guide's block, with x defined, and a trace counter that shows one compilation per value of n. @jax.jit(static_argnums=...) works as written since JAX 0.8.1 (before it, jax.jit needed the function: functools.partial(jax.jit, static_argnums=(1,)))."
# guide_blocks = [38]
# ///
import jax
import jax.numpy as jnp

x = jnp.zeros(3)
traces = 0

# Solution: Mark as static
@jax.jit(static_argnums=(1,))
def fn_static(x, n):
    global traces
    traces += 1  # runs only while tracing
    for i in range(n):
        x = x + 1
    return x

# Now works correctly
result = fn_static(x, 5)
result = fn_static(x, 10)  # Separate compilation for n=10
result = fn_static(x, 10)  # cached
print(result)
print("traces:", traces)
