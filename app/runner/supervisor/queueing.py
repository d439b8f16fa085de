"""The queue: admitting runs, dispatching them to children in fair order, cancelling.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from app import protocol
from app.protocol import RunRequest, RunResult
from app.runner.supervisor import client_limits, fairness, outcome, placement, pool
from app.runner.supervisor.pool import Child, PendingRun
from app.runner.supervisor.zygotes import layer_key, pool_kind

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

MIN_TIMEOUT_S = 0.1  # a request asking for less (or a negative time) gets this
PREPARE_GRACE_S = 10.0  # a child handed a run while still preparing gets this much extra


def submit(self: Supervisor, run_id: int, request: RunRequest, stream: bool = False) -> None:
    limit = self.settings.max_timeout_s
    timeout = max(MIN_TIMEOUT_S, min(request.timeout_s or self.settings.timeout_s, limit))
    run = PendingRun(run_id, request, time.monotonic(), timeout, stream=stream,
                     client_key=client_limits.limit_key(request, self.settings.hosted))
    running = self.running_user_runs()
    if len(self.queue) >= self.settings.queue_size:
        self.send_result(run, RunResult(
            status="busy",
            message=(f"The server is busy: {running} runs are executing and "
                     f"{len(self.queue)} are waiting. Try again in a moment."),
        ))
        return
    if self.setup.failing():
        self.send_result(run, self.setup.result())
        return
    if client_limits.queue_full(run.client_key, self.queue, self.queued_per_client):
        self.send_result(run, client_limits.queue_refusal(self.queued_per_client))
        return
    run.fair_tag = self.fair.tag(run.client_key if self.settings.fair_queue else None)
    place = placement.choose(
        str(request.target),
        placement.multi_device_uses(request.code, request.inspect)
        if self.info.platform != "cpu" else [],
        self.info.platform, self.info.device_count, self.settings.cpu_devices)
    kind = place.kind if place.kind != placement.ACCELERATOR_ALL or self.gpu_ids \
        else placement.ACCELERATOR
    run.runtime = request.jax or self.zygotes.default_id
    if not self.zygotes.has(run.runtime):
        self.send_result(run, RunResult(status="rejected", message=(
            f"JAX {run.runtime[:40]!r} is not available on this server (available: "
            f"{', '.join(r['id'] for r in self.zygotes.listing())}).")))
        return
    run.kind = pool_kind(kind, run.runtime, self.zygotes.default_id)
    run.note = place.note
    self.demand.record(run.kind, run.enqueued_at)
    self.queue.append(run)
    self.dispatch()
    if run in self.queue:
        self.send_positions()  # a run from a quieter session may go ahead of earlier ones


def cancel(self: Supervisor, run_id: int) -> bool:
    """Stop a run: a queued one leaves the queue and is answered now; a running one is killed
    through its cgroup and answered when it has exited. False: not queued or running."""
    run = pool.queued_run(self.queue, run_id)
    if run is not None:
        self.queue.remove(run)
        self.fair.withdrawn(run.client_key, run.fair_tag)
        self.send_result(run, outcome.unqueued(time.monotonic() - run.enqueued_at))
        self.send_positions()
        return True
    c = pool.running_child(self.children.values(), run_id)
    if c is None:
        return False
    c.kill_reason = "cancelled"
    pool.kill(c)
    return True


def dispatch(self: Supervisor) -> None:
    """Hand queued runs to idle children while slots are free."""
    for c in list(self.children.values()):
        if c.trusted and c.state == "idle" and c.run is not None:
            self.start_run(c, c.run)
    while self.queue and self.running_user_runs() < self.max_concurrent:
        # The queue stays in arrival order (its wait clock reads the oldest); the run to
        # start is the first in fair order that has a child of its kind waiting and whose
        # client may take a slot now.
        ready = [run for run in fairness.fair_order(self.queue)
                 if pool.next_for_queue(self.children.values(), run.kind) is not None]
        run = client_limits.next_to_start(
            ready, self.running_by_client(),
            self.max_concurrent - self.running_user_runs(), self.reserved_slots)
        idle = None if run is None else pool.next_for_queue(self.children.values(), run.kind)
        if run is None or idle is None:
            break
        self.queue.remove(run)
        self.fair.started(run.fair_tag)
        self.start_run(idle, run)
        self.send_positions()
    self.fill_pool()
    if self.warmup.done:
        self.start_background_warmup()


def running_by_client(self: Supervisor) -> Counter[str | None]:
    return Counter(c.run.client_key for c in self.children.values()
                   if c.state == "running" and not c.trusted and c.run is not None)


def start_run(self: Supervisor, c: Child, run: PendingRun) -> None:
    if c.ready_at is None and not c.trusted:
        self.waited_for_preparation += 1  # the pool was too small for this burst
    c.run = run
    c.state = "running"
    c.started_at = time.monotonic()
    # Until the child says "started" (it may still be preparing), allow for that too;
    # the run's own clock starts at "started".
    c.deadline = c.started_at + run.timeout_s + PREPARE_GRACE_S
    payload = protocol.to_json(run.request).encode()
    if not c.trusted and run.id is not None:  # the session's cache layer goes along
        c.layer = self.session_layers.acquire(
            layer_key(run.request.session_id, run.runtime, self.zygotes.default_id),
            c.started_at, run.client_key)
    self.pipes.write_request(c, payload, close=True,
                             pass_fd=c.layer.fd if c.layer is not None else None)
    if run.id is not None:
        self.send({"event": "running", "id": run.id})


def fail_queue(self: Supervisor) -> None:
    while self.queue:
        self.send_result(self.queue.popleft(), self.setup.result())
