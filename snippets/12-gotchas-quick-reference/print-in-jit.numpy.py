# /// snippet
# title = "Plain Python: print works"
# subsection = "Print in JIT"
# explanation = "Without jit, print shows the value every call."
# expect = { outcome = "ok", stdout = "value 1.0\nvalue 2.0" }
# changes = "The table's cell made runnable."
# ///
def f(x):
    print("value", x)
    return x * 2

f(1.0)
f(2.0)
