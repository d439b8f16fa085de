"""The trusted warm-up runs: the first one, then the shipped snippets in the background.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor


def start_background_warmup(self: Supervisor) -> None:
    """Compile the shipped snippets into the cache, one trusted run at a time, only while
    no user run waits: their first run in the app then loads instead of compiling."""
    if (not self.warmup.background or self.queue or self.stopping or not self.zygote.ready
            or self.running_user_runs() >= self.max_concurrent
            or any(c.trusted for c in self.children.values())):
        return
    c = self.fork_child(trusted=True)
    if c is not None:
        c.run = self.warmup.background.popleft()


def start_warmup(self: Supervisor) -> None:
    run = self.warmup.warmup_run()
    c = self.fork_child(trusted=True)
    if c is not None:
        c.run = run
        self.warmup.started()
