# /// snippet
# title = "The guide's lax.cond, as written: missing operand"
# subsection = "2. Control Flow Limitations"
# explanation = """
# The guide's jax.lax.cond call passes a predicate and two branches but no operand, while each
# branch takes an argument x. cond then calls a branch with no arguments: TypeError. The fixed
# version passes x after the branches.
# """
# expect = { outcome = "TypeError", message = "missing 1 required positional argument" }
# changes = "Kept exactly as the guide writes it (plus the import and a call) to show the error on this JAX."
# guide_blocks = [20]
# guide_issue = "jax.lax.cond is called without the operand its branches take: TypeError on the first call."
# ///
import jax

@jax.jit
def conditional(x):
    return jax.lax.cond(
        x > 0,
        lambda x: x**2,  # True branch
        lambda x: x**3   # False branch
    )

conditional(2.0)
