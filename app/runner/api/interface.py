"""The one interface every runner implements: the local one (this host's supervisor) and the
remote one (worker hosts through Redis). The UI and the CLI see only this; `get_runner()` picks
the implementation from the configuration.

    run(request, on_update) -> RunResult   blocks until the run's one and only result
    status() -> dict                       pool, queue, hosts, limits: for the System page
    cancel(run_id, session_id) -> bool     stop a queued or running run (see below)
    close()                                stop everything this runner started

on_update(kind, value) is called while the run is on its way, from any thread:
    ("queued", position: int)      waiting for a slot; 1 = next
    ("running", None)              the run's code started
    ("output", OutputChunk)        stdout/stderr as it arrives, in order, within the output cap

cancel(run_id, session_id): True when the run was found and is being stopped (its result then
comes back with status "cancelled"); False when there is no such run in flight, or when
session_id is given and the run belongs to another session (a run is stopped only by the
session that started it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from app.config import Settings
from app.protocol import RunRequest, RunResult

OnUpdate = Callable[[str, Any], None]
UPDATE_KINDS = ("queued", "running", "output")


@runtime_checkable
class RunnerInterface(Protocol):
    settings: Settings  # what it was started with: limits, concurrency

    def run(self, request: RunRequest, on_update: OnUpdate | None = None) -> RunResult: ...

    def status(self) -> dict[str, Any]: ...

    def cancel(self, run_id: str, session_id: str | None = None) -> bool: ...

    def close(self) -> None: ...
