"""The pool of waiting children: forking them, sizing it, dropping spares.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from app.runner.sandbox.cgroups import RunCgroup
from app.runner.supervisor import pipes, placement, pool
from app.runner.supervisor.pool import Child
from app.runner.supervisor.zygotes import split_kind

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

# A waiting child's own memory until one has been measured (its cgroup's usage when ready).
DEFAULT_CHILD_MB = {"gpu": 600.0}
DEFAULT_CHILD_MB_CPU = 64.0

log = logging.getLogger("playground.supervisor")


def _gpu_ids(self: Supervisor) -> list[str]:
    """The GPUs a one-GPU child may be given (as CUDA_VISIBLE_DEVICES names them); empty
    where every child sees every device (one GPU, or not a GPU host)."""
    if self.info.platform != "gpu" or self.info.device_count < 2:
        return []
    named = [p.strip() for p in self.info.env.get("CUDA_VISIBLE_DEVICES", "").split(",")
             if p.strip()]
    ids = named or [str(i) for i in range(self.info.device_count)]
    return ids[: self.info.device_count]


def kind_spec(self: Supervisor, kind: str, gpu: int | None) -> dict[str, Any]:
    """The environment a child of this kind starts its backend with."""
    kind = split_kind(kind, self.zygotes.default_id)[0]
    if kind == placement.CPU:
        return {"env": {"XLA_FLAGS": self.info.cpu_xla_flags}, "platforms": "cpu"}
    if gpu is not None:
        return {"env": {"CUDA_VISIBLE_DEVICES": self.gpu_ids[gpu]}}
    return {}


def fork_child(self: Supervisor, trusted: bool = False,
               kind: str = placement.ACCELERATOR) -> Child | None:
    zygote = self.zygotes.get(split_kind(kind, self.zygotes.default_id)[1])
    if not zygote.ready:
        return None
    uid = None if trusted else self.uids.acquire()
    if uid is None and not trusted:
        return None  # every run uid is taken: forked again when a child is discarded
    token = next(self.tokens)
    scratch = pool.make_scratch(self.run_root, token)
    ours, theirs = pipes.open_pipes()
    run_id = f"{os.getpid()}-{token}"
    c = Child(token, scratch, RunCgroup(run_id, self.settings), trusted, *ours)
    c.kind = kind
    c.uid = uid
    if split_kind(kind, self.zygotes.default_id)[0] == placement.ACCELERATOR and self.gpu_ids:
        # One GPU per run, the least busy; the warm-up sees the first, as one-GPU runs do
        # (the cache keys hold the devices a process sees).
        c.gpu = 0 if trusted else pool.pick_gpu(self.children.values(), len(self.gpu_ids))
    if not zygote.send_fork(token, scratch, trusted, theirs,
                            self.kind_spec(kind, c.gpu), uid):
        for fd in (c.stdout_r, c.stderr_r, c.result_r):  # not watched yet: close them here
            os.close(fd)
        self.discard(c)
        return None
    self.pipes.watch(c)
    c.forked_at = time.monotonic()
    self.children[token] = c
    return c


def fill_pool(self: Supervisor) -> None:
    """Fork the children pool.to_fork asks for; until the warm-up is done, only its own."""
    if self.stopping or not self.zygote.ready:
        return
    if self.setup.failing():
        return  # children die at set-up: do not fork in a loop (see fail_queue)
    if not self.warmup.done:
        if (not any(c.trusted for c in self.children.values())
                and not self.warmup.state.get("started")):
            self.start_warmup()
        return
    free = self.max_concurrent - self.running_user_runs()
    for kind, target in self.ready_targets(time.monotonic()).items():
        mine = [c for c in self.children.values() if c.kind == kind]
        queued = sum(1 for run in self.queue if run.kind == kind)
        count = pool.to_fork(mine, target, queued, free,
                             one_at_a_time=not self.info.preinit_backend)
        if count and len(mine) + count > 1:
            log.debug("pool grows", extra={"fields": {
                "event": "pool_grow", "kind": kind, "children": len(mine), "forking": count,
                "target": target, "queued": queued}})
        for _ in range(count):
            if self.fork_child(kind=kind) is None:
                return


def ready_targets(self: Supervisor, now: float) -> dict[str, int]:
    """How many children of each kind should wait now (app/runner/supervisor/pool.py: `prefork`
    of the default kind, more while runs come in bursts, within the memory cap)."""
    prep = pool.median(self.prep_times) or 0.0
    child_mb = pool.median(self.child_memory) or DEFAULT_CHILD_MB.get(
        self.info.platform, DEFAULT_CHILD_MB_CPU)
    budget = float(self.settings.pool_memory_mb or _host_memory_mb() / 8)
    kinds = [placement.ACCELERATOR, *sorted(
        ({c.kind for c in self.children.values()} | set(self.demand.kinds(now))
         | {run.kind for run in self.queue}) - {placement.ACCELERATOR})]
    targets: dict[str, int] = {}
    for kind in kinds:
        base = self.settings.prefork if kind == placement.ACCELERATOR else 0
        place = split_kind(kind, self.zygotes.default_id)[0]
        most = pool.most_waiting(self.max_concurrent,
                                 "cpu" if place == placement.CPU else self.info.platform)
        target = pool.ready_target(base, self.demand.burst(kind, now, prep), most,
                                   child_mb, budget)
        budget = max(0.0, budget - target * child_mb)
        targets[kind] = target
    return targets


def shrink_pool(self: Supervisor, now: float) -> None:
    """Drop waiting children beyond their kind's target (newest first) once the burst that
    called for them is over."""
    if self.queue:
        return
    for kind, target in self.ready_targets(now).items():
        mine = [c for c in self.children.values() if c.kind == kind]
        spares = pool.spares(mine, target)
        if spares:
            log.info("pool shrinks", extra={"fields": {
                "event": "pool_shrink", "kind": kind, "children": len(mine),
                "dropped": len(spares), "target": target}})
        for c in spares:
            self.drop(c)


def beyond_targets(self: Supervisor, now: float) -> bool:
    """More children wait than the targets ask for: the supervisor wakes to drop them."""
    targets = self.ready_targets(now)
    idle = [c for c in self.children.values()
            if c.state == "idle" and c.run is None and c.kill_reason is None and not c.trusted]
    return any(sum(1 for c in idle if c.kind == kind) > target
               for kind, target in targets.items())


def drop(self: Supervisor, c: Child) -> None:
    """End an idle child: closing its request pipe makes it exit before any user code."""
    c.kill_reason = "shutdown"
    c.request_buffer = b""
    self.pipes.close_request_pipe(c)


def running_user_runs(self: Supervisor) -> int:
    return pool.running_user_runs(self.children.values())


def _host_memory_mb() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    except (ValueError, OSError):
        return 8192.0
