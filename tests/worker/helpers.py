"""Helpers for the worker tests: run a snippet through execute() and inspect one function."""

from __future__ import annotations

from typing import Any

from app.protocol import InspectRequest, InspectResult, RunRequest, TransformStep
from app.worker.execute import execute
from app.worker.inspection import OUTPUT_NAME

PRELUDE = "import jax\nimport jax.numpy as jnp\nimport numpy as np\n"


def steps(*spec: str | tuple[str, dict[str, Any]]) -> list[TransformStep]:
    """steps("grad", ("vmap", {"in_axes": [None, 0]}), "jit") -> innermost first."""
    out = []
    for item in spec:
        name, options = (item, {}) if isinstance(item, str) else item
        out.append(TransformStep(name, dict(options)))  # type: ignore[arg-type]
    return out


class Inspected:
    def __init__(self, result: InspectResult, output: Any, namespace: dict[str, Any]) -> None:
        self.result, self.output, self.namespace = result, output, namespace


def inspect(code: str, function: str, args: str, stack: list[TransformStep] | None = None,
            **options: Any) -> Inspected:
    """Run PRELUDE + code, then inspect `function`; fail loudly if the snippet itself failed."""
    x64 = options.pop("x64", False)
    request = RunRequest(PRELUDE + code, x64=x64,
                         inspect=InspectRequest(function, args, stack or [], **options))
    report, namespace = execute(request)
    assert report.error is None, report.error
    assert report.inspect is not None
    return Inspected(report.inspect, namespace.get(OUTPUT_NAME), namespace)
