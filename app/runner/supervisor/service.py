"""The Supervisor: its state, set up once, and the jobs it is made of (one module each)."""

from __future__ import annotations

import itertools
import os
import selectors
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app import runtimes
from app.config import Settings
from app.runner import platform as platform_module
from app.runner import policy
from app.runner.sandbox.layers import SandboxUnavailable
from app.runner.sandbox.probing import probe
from app.runner.supervisor import (
    client_limits,
    clocks,
    event_loop,
    exits,
    fairness,
    live_output,
    messages,
    oom_guard,
    pipes,
    pool,
    pool_upkeep,
    queueing,
    report_decoder,
    session_cache,
    uids,
    warmup,
    warmup_runs,
    zygote_events,
)
from app.runner.supervisor import status as status_report
from app.runner.supervisor.outcome import RunFacts
from app.runner.supervisor.pool import Child, PendingRun
from app.runner.supervisor.zygotes import Zygotes


class Supervisor:
    """One per process. Its methods live in the job modules and are bound here, by job."""

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
        # Where the kernel does not keep a run's OOM score at 1000, the supervisor checks it.
        self.next_oom_check: float | None = None if oom_guard.kernel_keeps_minimum() else 0.0
        self.run_root = platform_module.state_dir(settings) / f"runs-{os.getpid()}"
        installed = runtimes.installed(settings)
        default_runtime = installed[0] if installed else None
        self.info = platform_module.detect(
            settings, interpreter=(str(runtimes.interpreter(settings, default_runtime))
                                   if default_runtime else None),
            runtime_id=default_runtime.id if default_runtime else "")
        if self.info.policy is not None:  # every part of a run follows the decided policy
            settings = self.settings = policy.resolved(settings, self.info.policy)
        self.gpu_ids = self._gpu_ids()
        self.session_layers = session_cache.SessionLayers(settings,
                                                          shared_by_uids=os.geteuid() == 0)
        self.zygotes = Zygotes(settings, self.info, self.selector, installed)
        self.zygote = self.zygotes.default  # the default runtime's: the warm-up runs there
        self.fatal = ""
        try:
            self.layers = probe(settings)
        except SandboxUnavailable as exc:  # fail closed: the operator asked for it
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

    # protocol I/O with the Runner (messages.py)
    send = messages.send
    on_runner_message = messages.on_runner_message
    on_run = messages.on_run
    on_cancel = messages.on_cancel
    on_status = messages.on_status
    on_shutdown = messages.on_shutdown
    on_stdin = messages.on_stdin
    send_positions = messages.send_positions
    send_result = messages.send_result

    # what it reports (status.py)
    limits = status_report.limits
    status = status_report.status
    runtime_status = status_report.runtime_status

    # the zygote's messages and death (zygote_events.py)
    zygote_died = zygote_events.zygote_died
    on_zygote_message = zygote_events.on_zygote_message

    # the pool of waiting children (pool_upkeep.py)
    _gpu_ids = pool_upkeep._gpu_ids
    kind_spec = pool_upkeep.kind_spec
    fork_child = pool_upkeep.fork_child
    fill_pool = pool_upkeep.fill_pool
    ready_targets = pool_upkeep.ready_targets
    shrink_pool = pool_upkeep.shrink_pool
    beyond_targets = pool_upkeep.beyond_targets
    drop = pool_upkeep.drop
    running_user_runs = pool_upkeep.running_user_runs

    # the trusted warm-up runs (warmup_runs.py)
    start_background_warmup = warmup_runs.start_background_warmup
    start_warmup = warmup_runs.start_warmup

    # the queue: submit, dispatch, cancel (queueing.py)
    submit = queueing.submit
    cancel = queueing.cancel
    dispatch = queueing.dispatch
    running_by_client = queueing.running_by_client
    start_run = queueing.start_run
    fail_queue = queueing.fail_queue

    # pipes and live output (live_output.py)
    on_pipe = live_output.on_pipe
    send_live = live_output.send_live
    child_ready = live_output.child_ready

    # exits and results (exits.py)
    reap = exits.reap
    on_exit = exits.on_exit
    finish = exits.finish
    release_layer = exits.release_layer
    decode_and_conclude = exits.decode_and_conclude
    conclude = exits.conclude
    on_decoded = exits.on_decoded
    discard = exits.discard

    # timers (clocks.py)
    next_timeout = clocks.next_timeout
    check_clocks = clocks.check_clocks
    sandboxed_running = clocks.sandboxed_running
    check_oom_scores = clocks.check_oom_scores

    # the event loop and shutdown (event_loop.py)
    serve = event_loop.serve
    shutdown = event_loop.shutdown
    reap_all = event_loop.reap_all
