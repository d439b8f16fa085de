"""The Supervisor: its state, set up once, and the jobs it is made of (one module each)."""

from __future__ import annotations

import itertools
import os
import selectors
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.config import Settings
from app.runner import platform as platform_module
from app.runner import policy
from app.runner.sandbox.layers import SandboxUnavailable
from app.runner.sandbox.probing import probe
from app.runner.supervisor import (
    client_limits,
    fairness,
    pipes,
    pool,
    report_decoder,
    session_cache,
    uids,
    warmup,
)
from app.runner.supervisor.clocks import Clocks
from app.runner.supervisor.event_loop import EventLoop
from app.runner.supervisor.exits import Exits
from app.runner.supervisor.live_output import LiveOutput
from app.runner.supervisor.messages import RunnerMessages
from app.runner.supervisor.outcome import RunFacts
from app.runner.supervisor.pool import Child, PendingRun
from app.runner.supervisor.pool_upkeep import PoolUpkeep
from app.runner.supervisor.queueing import Queueing
from app.runner.supervisor.status import StatusReport
from app.runner.supervisor.warmup_runs import WarmupRuns
from app.runner.supervisor.zygote_events import ZygoteEvents
from app.runner.supervisor.zygote_link import ZygoteLink


class Supervisor(
    RunnerMessages,
    StatusReport,
    ZygoteEvents,
    PoolUpkeep,
    WarmupRuns,
    Queueing,
    LiveOutput,
    Exits,
    Clocks,
    EventLoop,
):
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
