# /// snippet
# title = "NumPy: no autodiff, so estimate by finite differences"
# subsection = "6. Gradient Through Discrete Operations"
# explanation = """
# NumPy cannot differentiate; the usual check is a central finite difference. For
# loss(x) = x[argmax(x)] it finds slope 1 on the winning element and 0 elsewhere; for a loss that
# uses only the index, argmax(x), it finds 0 everywhere: nudging x does not move the index.
# """
# entry = "loss"
# args = "(np.array([1.0, 3.0, 2.0]),)"
# expect = { outcome = "ok", stdout = "through the index: [0. 0. 0.]" }
# changes = "Not in the guide: NumPy has no grad, so this is the numerical view of the same loss."
# ///
import numpy as np

def loss(x):
    idx = np.argmax(x)  # Discrete
    return x[idx]

def index_only(x):
    return float(np.argmax(x))

def finite_difference(f, x, eps=1e-4):
    grads = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        grads[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grads

x = np.array([1.0, 3.0, 2.0])
print("through the value:", finite_difference(loss, x).round(6))
print("through the index:", finite_difference(index_only, x).round(6) + 0.0)
