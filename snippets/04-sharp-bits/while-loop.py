# /// snippet
# title = "jax.lax.while_loop"
# subsection = "2. Control Flow Limitations"
# explanation = """
# while_loop(cond_fun, body_fun, init) runs on the device until cond_fun is false, so the trip
# count may depend on values. It is not reverse-differentiable (use fori_loop or scan for that).
# """
# entry = "while_loop"
# args = "(0,)"
# transforms = ["jit", "vmap"]
# expect = { outcome = "ok", stdout = "10" }
# changes = "Added `import jax` (missing in the guide) and a call."
# guide_blocks = [22]
# ///
import jax

@jax.jit
def while_loop(x):
    def cond_fun(val):
        return val < 10

    def body_fun(val):
        return val + 1

    return jax.lax.while_loop(cond_fun, body_fun, x)

print(while_loop(0))  # 10
