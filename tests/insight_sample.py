"""The snippet the insight UI tests run (AppTest and browser): a function whose two lines make
different ops, so that each IR line maps to line 6 or line 7."""

CODE = (
    "import jax\n"
    "import jax.numpy as jnp\n"
    "\n"
    "\n"
    "def f(x):\n"
    "    y = jnp.sin(x) * 2.0\n"
    "    return jnp.sum(jnp.tanh(y) ** 2)\n"
    "\n"
    "\n"
    "x = jnp.linspace(0.0, 1.0, 5)\n"
)
