"""A running child's pipes: its output streamed live, its result data, its ready line.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.runner.supervisor import outcome, pipes, pool
from app.runner.supervisor.pool import Child

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor


def on_pipe(self: Supervisor, fd: int, kind: str) -> None:
    c = self.pipes.owner(fd)
    if c is None:
        return
    data = pipes.read(fd)
    if data is None:
        return
    if not data:
        self.pipes.close_fd(c, fd)
        if c.state == "exited" and not c.open_fds:
            self.finish(c)
        return
    if kind == "result":
        was_ready = c.ready_at is not None
        over = pipes.add_result(c, data, self.settings.result_bytes, time.monotonic())
        if not was_ready and c.ready_at is not None and not c.trusted:
            self.child_ready(c)
        if over:
            pool.kill(c)
    else:
        now = time.monotonic()
        if pipes.add_output(c, kind, data, self.settings.output_bytes, now):
            pool.kill(c)
        if pipes.live_due(c, now) == now:
            self.send_live(c)


def send_live(self: Supervisor, c: Child) -> None:
    """Stream the child's output that has not gone to the Runner yet."""
    chunks = pipes.take_live(c)
    if chunks and c.run is not None and c.run.id is not None:
        self.send({"event": "output", "id": c.run.id,
                   "chunks": [[chunk.stream, chunk.text] for chunk in chunks]})


def child_ready(self: Supervisor, c: Child) -> None:
    """A child said it is ready: note how long it took and what it holds."""
    self.prep_times.append(c.ready_at - c.forked_at)  # type: ignore[operator]
    _layers, c.marks = outcome.ready_line(bytes(c.result_data).partition(b"\n")[0])
    phases = pool.prep_phases(c)
    if phases:
        self.prep_phases.append(phases)
    c.ready_memory_mb = c.cgroup.memory_mb()
    if c.ready_memory_mb:
        self.child_memory.append(c.ready_memory_mb)
