"""JAX Playground: learn and probe JAX in a browser, with every run in a sandbox."""
