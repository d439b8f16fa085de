"""Compare versions: the same code on every JAX runtime, one row per version. Pure: the widget
(app/ui/widgets/version_compare.py) draws what this computes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.protocol import RunResult
from app.ui.compare import steady_s

_WARNING = re.compile(r"\b(DeprecationWarning|FutureWarning|PendingDeprecationWarning)\b")
MAX_WARNINGS = 5


@dataclass
class VersionRow:
    version: str  # the runtime id asked for
    ran_on: str  # "JAX 0.12.1 · jaxlib 0.12.1 · Python 3.13.0", or "" if it never ran
    status: str
    output: str  # what it printed (stdout), and the last value
    error: str  # "AttributeError (line 4): module 'jax.core' has no attribute ..."
    steady_ms: float | None
    warnings: list[str] = field(default_factory=list)  # deprecation and future warnings
    jaxpr: str = ""
    hlo: str = ""


def warnings_in(stderr: str) -> list[str]:
    """The deprecation and future warnings a run printed, one line each (Python prints the
    warning and then the source line: only the first is kept)."""
    found = [line.strip() for line in stderr.splitlines() if _WARNING.search(line)]
    return list(dict.fromkeys(found))[:MAX_WARNINGS]


def row_for(version: str, result: RunResult) -> VersionRow:
    error = ""
    if result.error is not None:
        where = f" (line {result.error.line})" if result.error.line else ""
        error = f"{result.error.type}{where}: {result.error.message}"
    elif result.status != "ok":
        error = result.message
    output = result.stdout + (result.value_repr + "\n" if result.value_repr else "")
    steady = steady_s(result)
    inspect = result.inspect
    return VersionRow(
        version=version,
        ran_on=result.runtime.label() if result.runtime and result.runtime.jax else "",
        status=result.status, output=output, error=error,
        steady_ms=steady * 1e3 if steady is not None else None,
        warnings=warnings_in(result.stderr),
        jaxpr=(inspect.jaxpr or "") if inspect else "",
        hlo=(inspect.hlo or "") if inspect else "",
    )


def rows(versions: list[str], results: list[RunResult]) -> list[VersionRow]:
    return [row_for(v, r) for v, r in zip(versions, results, strict=True)]


def outcome(row: VersionRow) -> str:
    """One word for the table: ok, or the exception class, or the status."""
    if row.error and row.status == "error":
        return row.error.split(" ", 1)[0].split(":", 1)[0]
    return row.status
