"""The supervisor: a single-threaded process that owns the queue, the clocks, the caps and the pool.

Started by the Runner as `python -m app.runner.supervisor`; speaks JSON lines on stdin/stdout:

    runner -> supervisor  {"op": "init", "settings": {...}}          first line
                          {"op": "run", "id": N, "request": {...}, "stream": bool}
                          {"op": "cancel", "id": M, "run": N}        stop run N (queued/running)
                          {"op": "status", "id": N}
                          {"op": "shutdown"}
    supervisor -> runner  {"event": "hello", ...}                     platform, layers, limits
                          {"event": "warm", "ok": bool, ...}           the warm-up finished
                          {"event": "queued", "id": N, "position": P}
                          {"event": "running", "id": N}
                          {"event": "output", "id": N, "chunks": [[stream, text], ...]}
                          {"event": "result", "id": N, "result": {...RunResult}}
                          {"event": "cancel", "id": M, "found": bool}  run N is being stopped
                          {"event": "status", "id": N, "status": {...}}
                          {"event": "fatal", "message": "..."}

A run sent with "stream" gets its stdout/stderr in "output" events while it runs (in order,
batched, within the output cap), all of them before its "result". A stopped run's result is
"cancelled": from the queue at once, or, when running, after its cgroup was killed.

EOF on stdin (the Runner's process died) shuts everything down. Runs are children of the zygote;
this process is their subreaper too, so a run orphaned by a dying zygote is still reaped here.
It never opens a path a run created: results arrive on pipes, scratch dirs are removed by
tree_removal (no recursion, no link followed, bounded).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import selectors
import signal
import sys
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app import protocol
from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import child as child_module
from app.runner import (
    client_limits,
    fairness,
    outcome,
    pipes,
    placement,
    policy,
    pool,
    report_decoder,
    sandbox,
    session_cache,
    tree_removal,
    uids,
    warmup,
)
from app.runner import platform as platform_module
from app.runner.outcome import Report, RunFacts
from app.runner.pool import Child, PendingRun
from app.runner.zygote_link import ZYGOTE_FAILING, ZygoteLink

PR_SET_CHILD_SUBREAPER = 36
DRAIN_S = 0.5  # after a run exits, wait this long for its pipes to close
MIN_TIMEOUT_S = 0.1  # a request asking for less (or a negative time) gets this
PREPARE_GRACE_S = 10.0  # a child handed a run while still preparing gets this much extra
CACHE_CHECK_S = 0.5  # how often a running run's session cache layer is checked for room
# A waiting child's own memory until one has been measured (its cgroup's usage when ready).
DEFAULT_CHILD_MB = {"gpu": 600.0}
DEFAULT_CHILD_MB_CPU = 64.0


class Supervisor:
    def __init__(self, settings: Settings, warm_snippets: bool = False) -> None:
        self.settings = settings
        self.selector = selectors.DefaultSelector()
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # stray prints must never corrupt the protocol stream
        self.in_buffer = b""
        self.queue: deque[PendingRun] = deque()  # arrival order; fairness picks the next
        self.fair = fairness.FairShare()
        self.children: dict[int, Child] = {}  # token -> child
        self.uids = uids.UidPool.from_settings(settings)
        self.by_pid: dict[int, Child] = {}
        self.pipes = pipes.Pipes(self.selector)
        # Runs whose process ended and whose large report is being decoded in another process.
        self.decoders = report_decoder.Decoders(self.selector, settings.result_bytes)
        self.decoding: dict[int, tuple[PendingRun, RunFacts, bool]] = {}
        self.tokens = itertools.count(1)
        self.started = time.time()
        self.stopping = False
        self.setup = pool.SetupHealth()
        self.runs_total = 0
        self.status_counts: dict[str, int] = {}
        self.prep_times: deque[float] = deque(maxlen=50)
        self.prep_phases: deque[dict[str, float]] = deque(maxlen=50)
        self.child_memory: deque[float] = deque(maxlen=20)
        self.demand = pool.Demand()
        self.waited_for_preparation = 0  # runs handed a child still preparing
        self.next_cache_check = 0.0
        self.run_root = platform_module.state_dir(settings) / f"runs-{os.getpid()}"
        self.info = platform_module.detect(settings)
        if self.info.policy is not None:  # every part of a run follows the decided policy
            settings = self.settings = policy.resolved(settings, self.info.policy)
        self.gpu_ids = self._gpu_ids()
        self.session_layers = session_cache.SessionLayers(settings,
                                                          shared_by_uids=os.geteuid() == 0)
        self.zygote = ZygoteLink(settings, self.info, self.selector)
        self.fatal = ""
        try:
            self.layers = sandbox.probe(settings)
        except sandbox.SandboxUnavailable as exc:  # fail closed: the operator asked for it
            self.layers = {}
            self.fatal = f"This server does not run code: {exc}"
        self.max_concurrent = self.info.max_concurrent
        self.reserved_slots = client_limits.reserved_slots(settings, self.max_concurrent)
        self.queued_per_client = client_limits.queued_per_client(settings)
        self.warmup = warmup.Progress(settings, self.info, snippets=warm_snippets)
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "run": self.on_run,
            "cancel": self.on_cancel,
            "status": self.on_status,
            "shutdown": self.on_shutdown,
        }

    # -- protocol out -------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.out.write(json.dumps(message) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self.stopping = True

    def limits(self) -> dict[str, Any]:
        s = self.settings
        return {
            "timeout_s": s.timeout_s,
            "max_timeout_s": s.max_timeout_s,
            "cpu_s": s.cpu_s,
            "memory_mb": s.memory_mb,
            "output_bytes": s.output_bytes,
            "result_bytes": s.result_bytes,
            "max_pids": s.max_pids,
            "file_size_mb": s.file_size_mb,
            "open_files": s.open_files,
            "code_bytes": s.code_bytes,
            "max_concurrent": self.max_concurrent,
            "queue_size": s.queue_size,
            "queue_wait_s": s.queue_wait_s,
            "prefork": s.prefork,
            "cores_per_run": s.cores_per_run,
            "cpu_limit_s": policy.cpu_limit_s(s),
        }

    def status(self) -> dict[str, Any]:
        return {
            "supervisor_pid": os.getpid(),
            **self.zygote.status(),
            **pool.status(self.children.values(), self.prep_times, self.prep_phases),
            "queued": len(self.queue),
            "runs_total": self.runs_total,
            "runs_waited_for_preparation": self.waited_for_preparation,
            "child_ready_memory_mb_p50": pool.median(self.child_memory),
            "status_counts": dict(self.status_counts),
            "platform": self.info.platform,
            "device_count": self.info.device_count,
            "device_kind": self.info.device_kind,
            "notes": self.info.notes,
            "policy": policy.rows(self.info.policy) if self.info.policy else {},
            "session_cache": self.session_layers.status(),
            "layers": self.layers,
            "limits": self.limits(),
            "warm": self.warmup.state,
            "last_setup_error": self.setup.last_error,
            "fatal": self.fatal,
            "uptime_s": round(time.time() - self.started, 1),
        }

    # -- zygote -------------------------------------------------------------------------------

    def zygote_died(self) -> None:
        # Children still forking never got a pid; the running ones die with the zygote
        # (parent-death signal) and are reaped here as their subreaper.
        for c in list(self.children.values()):
            if c.state == "forking":
                self.discard(c)
            elif c.state in ("starting", "idle", "running"):
                c.kill_reason = c.kill_reason or "zygote"
                pool.kill(c)
        if self.stopping:
            return
        if not self.zygote.restart():
            # Broken environment (imports fail): do not spin; answer the waiting runs.
            self.setup.give_up(ZYGOTE_FAILING + " (see the server log)")
            self.fail_queue()

    def on_zygote_message(self) -> None:
        message = self.zygote.receive()
        if message is None:  # it died or is dying; reap() sees its exit and restarts it
            self.zygote.close()
            self.zygote.kill()
            self.reap()
            return
        if "hello" in message:
            if self.setup.last_error.startswith(ZYGOTE_FAILING):
                self.setup.failures = 0  # it starts again: so may the children
            self.zygote.hello(message)
            self.fill_pool()
        elif "forked" in message:
            c = self.children.get(int(message["forked"]))
            if c is None:
                return
            c.pid = int(message["pid"])
            self.by_pid[c.pid] = c
            c.cgroup.attach(c.pid)
            c.state = "idle"
            self.pipes.write_request(c, b"go\n")
            self.dispatch()
        elif "exited" in message:
            self.on_exit(int(message["exited"]), int(message["status"]),
                         int(message.get("maxrss_kb", 0)))

    # -- the pool -----------------------------------------------------------------------------

    def _gpu_ids(self) -> list[str]:
        """The GPUs a one-GPU child may be given (as CUDA_VISIBLE_DEVICES names them); empty
        where every child sees every device (one GPU, or not a GPU host)."""
        if self.info.platform != "gpu" or self.info.device_count < 2:
            return []
        named = [p.strip() for p in self.info.env.get("CUDA_VISIBLE_DEVICES", "").split(",")
                 if p.strip()]
        ids = named or [str(i) for i in range(self.info.device_count)]
        return ids[: self.info.device_count]

    def kind_spec(self, kind: str, gpu: int | None) -> dict[str, Any]:
        """The environment a child of this kind starts its backend with."""
        if kind == placement.CPU:
            return {"env": {"XLA_FLAGS": self.info.cpu_xla_flags}, "platforms": "cpu"}
        if gpu is not None:
            return {"env": {"CUDA_VISIBLE_DEVICES": self.gpu_ids[gpu]}}
        return {}

    def fork_child(self, trusted: bool = False,
                   kind: str = placement.ACCELERATOR) -> Child | None:
        if not self.zygote.ready:
            return None
        uid = None if trusted else self.uids.acquire()
        if uid is None and not trusted:
            return None  # every run uid is taken: forked again when a child is discarded
        token = next(self.tokens)
        scratch = pool.make_scratch(self.run_root, token)
        ours, theirs = pipes.open_pipes()
        run_id = f"{os.getpid()}-{token}"
        c = Child(token, scratch, sandbox.RunCgroup(run_id, self.settings), trusted, *ours)
        c.kind = kind
        c.uid = uid
        if kind == placement.ACCELERATOR and self.gpu_ids:
            # One GPU per run, the least busy; the warm-up sees the first, as one-GPU runs do
            # (the cache keys hold the devices a process sees).
            c.gpu = 0 if trusted else pool.pick_gpu(self.children.values(), len(self.gpu_ids))
        if not self.zygote.send_fork(token, scratch, trusted, theirs,
                                     self.kind_spec(kind, c.gpu), uid):
            for fd in (c.stdout_r, c.stderr_r, c.result_r):  # not watched yet: close them here
                os.close(fd)
            self.discard(c)
            return None
        self.pipes.watch(c)
        c.forked_at = time.monotonic()
        self.children[token] = c
        return c

    def fill_pool(self) -> None:
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
            for _ in range(count):
                if self.fork_child(kind=kind) is None:
                    return

    def ready_targets(self, now: float) -> dict[str, int]:
        """How many children of each kind should wait now (app/runner/pool.py: `prefork` of the
        default kind, more while runs come in bursts, within the memory cap)."""
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
            most = pool.most_waiting(self.max_concurrent,
                                     "cpu" if kind == placement.CPU else self.info.platform)
            target = pool.ready_target(base, self.demand.burst(kind, now, prep), most,
                                       child_mb, budget)
            budget = max(0.0, budget - target * child_mb)
            targets[kind] = target
        return targets

    def shrink_pool(self, now: float) -> None:
        """Drop waiting children beyond their kind's target (newest first) once the burst that
        called for them is over."""
        if self.queue:
            return
        for kind, target in self.ready_targets(now).items():
            mine = [c for c in self.children.values() if c.kind == kind]
            for c in pool.spares(mine, target):
                self.drop(c)

    def beyond_targets(self, now: float) -> bool:
        """More children wait than the targets ask for: the supervisor wakes to drop them."""
        targets = self.ready_targets(now)
        idle = [c for c in self.children.values()
                if c.state == "idle" and c.run is None and c.kill_reason is None and not c.trusted]
        return any(sum(1 for c in idle if c.kind == kind) > target
                   for kind, target in targets.items())

    def drop(self, c: Child) -> None:
        """End an idle child: closing its request pipe makes it exit before any user code."""
        c.kill_reason = "shutdown"
        c.request_buffer = b""
        self.pipes.close_request_pipe(c)

    def running_user_runs(self) -> int:
        return pool.running_user_runs(self.children.values())

    def start_background_warmup(self) -> None:
        """Compile the shipped snippets into the cache, one trusted run at a time, only while
        no user run waits: their first run in the app then loads instead of compiling."""
        if (not self.warmup.background or self.queue or self.stopping or not self.zygote.ready
                or self.running_user_runs() >= self.max_concurrent
                or any(c.trusted for c in self.children.values())):
            return
        c = self.fork_child(trusted=True)
        if c is not None:
            c.run = self.warmup.background.popleft()

    def start_warmup(self) -> None:
        run = self.warmup.warmup_run()
        c = self.fork_child(trusted=True)
        if c is not None:
            c.run = run
            self.warmup.started()

    def dispatch(self) -> None:
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

    def running_by_client(self) -> Counter[str | None]:
        return Counter(c.run.client_key for c in self.children.values()
                       if c.state == "running" and not c.trusted and c.run is not None)

    def start_run(self, c: Child, run: PendingRun) -> None:
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
            c.layer = self.session_layers.acquire(run.request.session_id, c.started_at,
                                                  run.client_key)
        self.pipes.write_request(c, payload, close=True,
                                 pass_fd=c.layer.fd if c.layer is not None else None)
        if run.id is not None:
            self.send({"event": "running", "id": run.id})

    # -- runs from the Runner -----------------------------------------------------------------

    def on_runner_message(self, message: dict[str, Any]) -> None:
        handler = self.handlers.get(str(message.get("op")))
        if handler is not None:
            handler(message)

    def on_run(self, message: dict[str, Any]) -> None:
        if self.fatal:
            self.send({"event": "result", "id": message["id"], "result": protocol.to_dict(
                RunResult(status="rejected", message=self.fatal))})
            return
        self.submit(int(message["id"]), protocol.from_dict(RunRequest, message["request"]),
                    stream=bool(message.get("stream")))

    def on_cancel(self, message: dict[str, Any]) -> None:
        found = self.cancel(int(message["run"]))
        self.send({"event": "cancel", "id": message.get("id"), "found": found})

    def on_status(self, message: dict[str, Any]) -> None:
        self.send({"event": "status", "id": message.get("id"), "status": self.status()})

    def on_shutdown(self, _message: dict[str, Any]) -> None:
        self.stopping = True

    def cancel(self, run_id: int) -> bool:
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

    def submit(self, run_id: int, request: RunRequest, stream: bool = False) -> None:
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
        run.kind = place.kind if place.kind != placement.ACCELERATOR_ALL or self.gpu_ids \
            else placement.ACCELERATOR
        run.note = place.note
        self.demand.record(run.kind, run.enqueued_at)
        self.queue.append(run)
        self.dispatch()
        if run in self.queue:
            self.send_positions()  # a run from a quieter session may go ahead of earlier ones

    def send_positions(self) -> None:
        order = fairness.fair_order(self.queue)
        for position, run in enumerate(order, start=1):
            if run.id is not None:
                self.send({"event": "queued", "id": run.id, "position": position})

    def send_result(self, run: PendingRun, result: RunResult) -> None:
        if run.id is not None:
            self.runs_total += 1
            self.status_counts[result.status] = self.status_counts.get(result.status, 0) + 1
            self.send({"event": "result", "id": run.id, "result": protocol.to_dict(result)})

    # -- pipes ----------------------------------------------------------------------------------

    def on_pipe(self, fd: int, kind: str) -> None:
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

    def send_live(self, c: Child) -> None:
        """Stream the child's output that has not gone to the Runner yet."""
        chunks = pipes.take_live(c)
        if chunks and c.run is not None and c.run.id is not None:
            self.send({"event": "output", "id": c.run.id,
                       "chunks": [[chunk.stream, chunk.text] for chunk in chunks]})

    def child_ready(self, c: Child) -> None:
        """A child said it is ready: note how long it took and what it holds."""
        self.prep_times.append(c.ready_at - c.forked_at)  # type: ignore[operator]
        _layers, c.marks = outcome.ready_line(bytes(c.result_data).partition(b"\n")[0])
        phases = pool.prep_phases(c)
        if phases:
            self.prep_phases.append(phases)
        c.ready_memory_mb = c.cgroup.memory_mb()
        if c.ready_memory_mb:
            self.child_memory.append(c.ready_memory_mb)

    # -- exits, results ---------------------------------------------------------------------------

    def reap(self) -> None:
        """Reap our own children: the zygote, and runs orphaned by a dead zygote (subreaper)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.zygote.reaped(pid, status):
                self.zygote_died()
            else:
                # Reaped here, not by the zygote: its parent, the zygote, is dead.
                orphan = self.by_pid.get(pid)
                if orphan is not None and orphan.kill_reason is None:
                    orphan.kill_reason = "zygote"
                self.on_exit(pid, status, 0)

    def on_exit(self, pid: int, status: int, maxrss_kb: int) -> None:
        c = self.by_pid.get(pid)
        if c is None or c.state == "exited":
            return
        previous = c.state
        c.state = "exited"
        c.exit_status = status
        c.maxrss_kb = maxrss_kb
        c.exited_at = time.monotonic()
        del self.by_pid[pid]
        # The run is over: anything it left behind (daemons holding our pipes) goes now.
        c.cgroup.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        self.pipes.close_request_pipe(c)
        c.died_before_run = previous != "running" and c.kill_reason is None
        if not c.open_fds:
            self.finish(c)

    def fail_queue(self) -> None:
        while self.queue:
            self.send_result(self.queue.popleft(), self.setup.result())

    def finish(self, c: Child) -> None:
        """Build the result, answer, and clean up after one child. Whatever that raises (what a
        run left behind is hostile input) ends this run `crashed`, never the supervisor."""
        try:
            self._finish(c)
        except Exception:
            self.abandon(c)

    def abandon(self, c: Child) -> None:
        """Handling this child raised: log it, answer its run `crashed`, forget the child (its
        cgroup killed, its layer dropped); every other run goes on."""
        traceback.print_exc()  # the supervisor's stderr: the operator's log
        run, c.run = c.run, None
        if run is not None and run.id is not None and not run.background:
            self.send_result(run, RunResult(
                status="crashed", message="The runner could not finish this run (see the "
                "server log); other runs were not affected."))
        layer, c.layer = c.layer, None
        with contextlib.suppress(Exception):
            if layer is not None:
                self.session_layers.release(layer, time.monotonic(), filled=True)
        with contextlib.suppress(Exception):
            c.state = "exited"
            self.discard(c)
        self.children.pop(c.token, None)
        if c.pid is not None:
            self.by_pid.pop(c.pid, None)
        with contextlib.suppress(Exception):
            self.dispatch()

    def _finish(self, c: Child) -> None:
        self.pipes.close_reads(c)
        self.send_live(c)  # the last of its output, before its result
        filled = self.release_layer(c)
        if c.died_before_run and c.exit_status is not None and self.setup.died_at_setup(c):
            self.fail_queue()
        if (c.run is not None and c.run.id is not None and c.kill_reason == "zygote"
                and c.result_data.count(b"\n") < 2):
            # The child died with the zygote before it said "started": no user code ran, so
            # the run goes back to the front of the queue instead of failing.
            self.queue.appendleft(c.run)
            c.run = None
        if c.trusted and c.kill_reason == "zygote" and c.run is not None:
            self.warmup.lost(c.run)  # died with the zygote: again, once the zygote is back
            c.run = None
        if c.run is not None and c.state == "exited" and c.run.background:
            self.warmup.snippet_done()
            c.run = None
        if c.run is not None and c.state == "exited":
            self.decode_and_conclude(c.run, pool.run_facts(c, cache_full=filled), c.trusted)
            c.run = None
        elif c.run is not None and c.trusted:
            self.warmup.dropped()
            self.send({"event": "warm", **self.warmup.state})
        self.discard(c)
        self.dispatch()

    def release_layer(self, c: Child) -> bool:
        """Give back the session cache layer the run held; True: the run filled it."""
        layer, c.layer = c.layer, None
        if layer is None:
            return False
        filled = c.kill_reason == "cache" or (c.code_started and self.session_layers.is_full(layer))
        self.session_layers.release(layer, time.monotonic(), filled)
        return filled
    def decode_and_conclude(self, run: PendingRun, facts: RunFacts, trusted: bool) -> None:
        """Answer a finished run; a large report is decoded in another process first (its
        slowness delays only this run), a small one here."""
        data = outcome.report_data(facts)
        decoded: Report | None = None
        if len(data) > report_decoder.INLINE_BYTES:
            key = self.decoders.start(data)
            if key is not None:
                self.decoding[key] = (run, facts, trusted)
                return
            decoded = Report(problem="no process could be started to decode it")
        self.conclude(run, facts, trusted, decoded)

    def conclude(self, run: PendingRun, facts: RunFacts, trusted: bool,
                 decoded: Report | None) -> None:
        result = outcome.classify(facts, self.settings, self.info.platform, decoded)
        if trusted:
            self.warmup.finished(result)
            self.send({"event": "warm", **self.warmup.state})
        else:
            self.setup.failures = 0
        self.send_result(run, result)

    def on_decoded(self, key: int, decoded: Report) -> None:
        pending = self.decoding.pop(key, None)
        if pending is not None:
            run, facts, trusted = pending
            self.conclude(run, facts, trusted, decoded)

    def discard(self, c: Child) -> None:
        self.release_layer(c)
        self.pipes.close_reads(c)
        self.pipes.close_request_pipe(c)
        if c.run is not None and c.state != "exited" and c.run.id is not None:
            self.send_result(c.run, RunResult(status="crashed",
                                              message="The run's process could not be started."))
            c.run = None
        c.cgroup.remove()  # kills what is left of the run: its uid is free again
        self.uids.release(c.uid)
        c.uid = None
        tree_removal.remove_path(c.scratch)
        self.children.pop(c.token, None)
        if c.pid is not None:
            self.by_pid.pop(c.pid, None)

    # -- clocks ---------------------------------------------------------------------------------

    def next_timeout(self) -> float | None:
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
        times += self.zygote.wake_times()
        times += self.decoders.wake_times()
        busy = self.queue or any(c.state == "running" for c in self.children.values())
        if not busy and self.beyond_targets(now):  # else the run's end wakes us
            times.append(max(self.demand.changes_at() or now, now))
        if any(c.layer is not None and c.state == "running" for c in self.children.values()):
            times.append(max(self.next_cache_check, now))
        expiry = self.session_layers.next_expiry()
        if expiry is not None:
            times.append(expiry)
        if not times:
            return None
        return max(0.0, min(times) - now)

    def check_clocks(self) -> None:
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
        self.session_layers.expire(now)
        self.shrink_pool(now)
        self.zygote.check(now)
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

    # -- main loop ------------------------------------------------------------------------------

    def on_stdin(self) -> None:
        try:
            data = os.read(0, pipes.READ_CHUNK)
        except BlockingIOError:
            return
        if not data:
            self.stopping = True
            return
        self.in_buffer += data
        *lines, self.in_buffer = self.in_buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self.on_runner_message(json.loads(line))

    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        os.set_blocking(0, False)
        self.selector.register(0, selectors.EVENT_READ, ("stdin", None))
        self.selector.register(wake_r, selectors.EVENT_READ, ("signal", None))
        if self.fatal:
            self.send({"event": "hello", **self.status()})
            self.send({"event": "fatal", "message": self.fatal})
        else:
            self.zygote.start()
            self.send({"event": "hello", **self.status()})
            if self.warmup.done:
                self.send({"event": "warm", **self.warmup.state})
        while not self.stopping:
            try:
                self.loop(wake_r)
            except Exception:  # handling one event failed: log it, every other run goes on
                traceback.print_exc()
        self.shutdown()

    def loop(self, wake_r: int) -> None:
        while not self.stopping:
            for key, _ in self.selector.select(self.next_timeout()):
                kind, detail = key.data
                if kind == "stdin":
                    self.on_stdin()
                elif kind == "signal":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    self.reap()
                elif kind == "zygote":
                    if self.zygote.owns(key.fileobj):
                        self.on_zygote_message()
                elif kind == "pipe":
                    self.on_pipe(key.fd, detail)
                elif kind == "request":
                    c = self.pipes.owner(key.fd)
                    if c is not None:
                        self.pipes.flush_request(c)
                elif kind == "decode":
                    done = self.decoders.on_readable(key.fd)
                    if done is not None:
                        self.on_decoded(*done)
                if self.stopping:
                    break
            self.check_clocks()
            if self.zygote.overdue():
                self.zygote.kill()  # stuck in its imports; reap() restarts it

    def shutdown(self) -> None:
        self.stopping = True
        for c in list(self.children.values()):
            if c.kill_reason is None:
                c.kill_reason = "shutdown"
            pool.kill(c)
        for run in list(self.queue):
            self.send_result(run, RunResult(status="crashed", message="The runner shut down."))
        self.queue.clear()
        for key in self.decoders.close():
            run, _facts, trusted = self.decoding.pop(key)
            if trusted:
                self.warmup.dropped()
            self.send_result(run, RunResult(status="crashed", message="The runner shut down."))
        for c in list(self.children.values()):
            if c.run is not None and c.run.id is not None:
                self.send_result(c.run, RunResult(status="crashed",
                                                  message="The runner shut down."))
            c.run = None
            c.state = "exited"
            self.discard(c)
        self.zygote.stop()
        self.reap_all()
        self.session_layers.close()
        tree_removal.remove_path(self.run_root)

    def reap_all(self) -> None:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(0.01)

def _host_memory_mb() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    except (ValueError, OSError):
        return 8192.0


def _become_subreaper() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _remove_stale_run_dirs(settings: Settings) -> None:
    """Scratch left by a supervisor that was killed: its pid is no longer alive."""
    root = platform_module.state_dir(settings)
    for path in root.glob("runs-*"):
        pid = path.name.removeprefix("runs-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tree_removal.remove_path(path)


def main() -> int:
    first = child_module.read_line(0)  # byte-exact: later lines are read from fd 0 directly
    message = json.loads(first) if first.strip() else {}
    settings = protocol.from_dict(Settings, message.get("settings", {}))
    _become_subreaper()
    root = platform_module.state_dir(settings)
    # Traversable, not listable: a sandboxed run (maybe another uid) reaches only its own scratch.
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    platform_module.compile_cache_dir(settings).mkdir(mode=0o755, parents=True, exist_ok=True)
    _remove_stale_run_dirs(settings)
    supervisor = Supervisor(settings, warm_snippets=bool(message.get("warm_snippets")))
    try:
        supervisor.serve()
    finally:
        supervisor.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
