"""The timers: run deadlines, pipe drains, live output, queue waits, cache and OOM-score checks.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.protocol import RunResult
from app.runner.supervisor import oom_guard, pipes, pool
from app.runner.supervisor.pool import Child

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

DRAIN_S = 0.5  # after a run exits, wait this long for its pipes to close
CACHE_CHECK_S = 0.5  # how often a running run's session cache layer is checked for room


def next_timeout(self: Supervisor) -> float | None:
    now = time.monotonic()
    times: list[float] = []
    for c in self.children.values():
        if c.state == "running" and c.deadline is not None and c.kill_reason is None:
            times.append(c.deadline)
        if c.state == "exited":
            times.append(c.exited_at + DRAIN_S)
        live = pipes.live_due(c, now)
        if live is not None:
            times.append(live)
    if self.queue:
        times.append(self.queue[0].enqueued_at + self.settings.queue_wait_s)
    for link in self.zygotes.all():
        times += link.wake_times()
    times += self.decoders.wake_times()
    busy = self.queue or any(c.state == "running" for c in self.children.values())
    if not busy and self.beyond_targets(now):  # else the run's end wakes us
        times.append(max(self.demand.changes_at() or now, now))
    if any(c.layer is not None and c.state == "running" for c in self.children.values()):
        times.append(max(self.next_cache_check, now))
    if self.next_oom_check is not None and self.sandboxed_running():
        times.append(max(self.next_oom_check, now))
    expiry = self.session_layers.next_expiry()
    if expiry is not None:
        times.append(expiry)
    if not times:
        return None
    return max(0.0, min(times) - now)


def check_clocks(self: Supervisor) -> None:
    now = time.monotonic()
    for c in list(self.children.values()):
        if (c.state == "running" and c.kill_reason is None and c.deadline is not None
                and now >= c.deadline):
            c.kill_reason = "timeout"
            pool.kill(c)
        elif c.state == "exited" and now >= c.exited_at + DRAIN_S:
            self.finish(c)  # an escaped process still holds a pipe: stop waiting
            continue
        live = pipes.live_due(c, now)
        if live is not None and now >= live:
            self.send_live(c)
    if now >= self.next_cache_check:
        self.next_cache_check = now + CACHE_CHECK_S
        for c in list(self.children.values()):
            if (c.state == "running" and c.layer is not None and c.kill_reason is None
                    and self.session_layers.is_full(c.layer)):
                c.kill_reason = "cache"  # it filled its session's cache layer
                pool.kill(c)
    if self.next_oom_check is not None and now >= self.next_oom_check:
        self.next_oom_check = now + oom_guard.CHECK_S
        self.check_oom_scores()
    self.session_layers.expire(now)
    self.shrink_pool(now)
    for link in self.zygotes.all():
        link.check(now)
    for key, decoded in self.decoders.expired(now):
        self.on_decoded(key, decoded)
    expired = False
    while self.queue and now >= self.queue[0].enqueued_at + self.settings.queue_wait_s:
        run = self.queue.popleft()
        expired = True
        self.send_result(run, RunResult(
            status="busy", queue_s=round(now - run.enqueued_at, 3),
            message=(f"The server is busy: the run waited {self.settings.queue_wait_s:g} s "
                     "for a free slot. Try again in a moment.")))
    if expired:
        self.send_positions()


def sandboxed_running(self: Supervisor) -> list[Child]:
    return [c for c in self.children.values() if c.state == "running" and not c.trusted
            and c.kill_reason is None and c.pid is not None]


def check_oom_scores(self: Supervisor) -> None:
    """End every run that lowered its OOM score (oom_guard: the kernel let it)."""
    running = {c.pid: c for c in self.sandboxed_running() if c.pid is not None}
    for pid in oom_guard.lowered(running):
        running[pid].kill_reason = "oom_score"
        pool.kill(running[pid])
