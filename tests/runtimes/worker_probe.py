"""Run by each runtime's interpreter: the worker with every view on a small function, no sandbox.
Prints the report as JSON on stdout (the last line)."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from app.protocol import VIEW_NAMES, InspectRequest, RunRequest, to_json
from app.worker.execute import execute

CODE = """
import jax, jax.numpy as jnp
def f(x):
    return jnp.sin(x) * 2.0
x = jnp.arange(4.0)
print("ran", float(jax.jit(f)(x).sum()))
"""

request = RunRequest(code=CODE, inspect=InspectRequest(
    function="f", args="(x,)", views=list(VIEW_NAMES), timings=True, passes=True, profile=True))
report, _ = execute(request)
print(json.dumps({"jax": __import__("jax").__version__, "report": json.loads(to_json(report))}))
