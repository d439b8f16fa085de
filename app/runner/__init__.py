"""The orchestrator: `get_runner().run(request)` runs code in a fresh, sandboxed process.

Exports are loaded lazily so that the zygote and the sandboxed children, which import
app.runner.child and app.runner.sandbox, do not pull in the caller-side Runner
(threads, subprocess).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.runner.runner import Runner, get_runner

__all__ = ["Runner", "get_runner"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.runner import runner

        return getattr(runner, name)
    raise AttributeError(name)
