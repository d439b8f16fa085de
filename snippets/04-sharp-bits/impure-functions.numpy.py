# /// snippet
# title = "Plain Python: a side effect runs on every call"
# subsection = "1. Pure Functions Required"
# explanation = "Without jit, a function that bumps a global counter bumps it on every call."
# entry = "impure_fn"
# args = "(2.0,)"
# expect = { outcome = "ok", stdout = "counter = 2" }
# changes = "Not in the guide: the same function without jax.jit, for comparison."
# ///
counter = 0

def impure_fn(x):
    global counter
    counter += 1  # Side effect - runs every time
    return x**2

result = impure_fn(2.0)
result = impure_fn(3.0)
print("counter =", counter)  # 2
