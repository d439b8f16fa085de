# /// snippet
# title = "Higher-order derivatives and the Hessian"
# subsection = "Higher-Order Derivatives"
# explanation = """
# grad of grad gives second derivatives; jax.hessian builds the full matrix (forward over
# reverse). For sum(x**3) the Hessian is diagonal with 6x.
# """
# entry = "f"
# args = "(jnp.array([1.0, 2.0, 3.0]),)"
# transforms = ["grad", "jit", "vmap"]
# expect = { outcome = "ok", stdout = "[ 0.  0. 18.]]" }
# changes = """
# Imports added and hess_diag_f is now called. Note: the guide calls it the 'Hessian diagonal',
# but grad(sum(grad_f(x) * x)) is H x + grad_f(x), here 9x^2, not the diagonal 6x; the diagonal
# is printed with jnp.diag(hessian_f(x)).
# """
# guide_blocks = [34]
# guide_issue = "hess_diag_f is not the Hessian diagonal: grad(sum(grad_f(x) * x)) is H x + grad_f(x), 9x^2 here, not 6x."
# ///
import jax
import jax.numpy as jnp

# Second derivative (Hessian diagonal)
def f(x):
    return jnp.sum(x**3)

grad_f = jax.grad(f)
hess_diag_f = jax.grad(lambda x: jnp.sum(grad_f(x) * x))

# Full Hessian
hessian_f = jax.hessian(f)

x = jnp.array([1.0, 2.0, 3.0])
print(hessian_f(x))
print("diag of the Hessian:", jnp.diag(hessian_f(x)))  # 6x = [ 6. 12. 18.]
print("the guide's hess_diag_f:", hess_diag_f(x))  # 9x^2 = [ 9. 36. 81.]
