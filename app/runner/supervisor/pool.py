"""The preforked children: what the supervisor holds for each one, and the pool's decisions.

A run starts in a child the zygote forked before the run arrived, already sandboxed with its
backend up, so the pool is sized ahead of demand. The supervisor owns the records; the decisions
(how many to fork, which child gets the next run, which spares to drop, when to stop forking)
are functions of the records here, so they hold no state of their own and read in one place.

Sizing: `prefork` children always wait; while runs come in bursts, more do. The burst is the most
runs that arrived within one preparation time of each other in the last DEMAND_WINDOW_S (each of
them needed a child of its own: a replacement forked when one run starts is not ready before the
next arrives). The waiting children's own memory is capped by PLAYGROUND_POOL_MEMORY_MB, and their
count by most_waiting. Children come in kinds (app/runner/supervisor/placement.py): each
kind is sized from its own demand; only the default kind keeps `prefork` when idle.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner.sandbox.cgroups import RunCgroup
from app.runner.supervisor.outcome import KillReason, RunFacts
from app.runner.supervisor.placement import ACCELERATOR

DEMAND_WINDOW_S = 20.0  # arrivals this recent size the pool; a burst's children go after it
MIN_BURST_GAP_S = 0.1  # runs closer than this (or than twice the preparation p50) need a child each
WAITING_PER_SLOT_CPU = 4  # see most_waiting
SETUP_FAILURES_BEFORE_GIVING_UP = 3
SETUP_RETRY_S = 30.0  # then try forking again

ChildState = Literal["forking", "starting", "idle", "running", "exited"]


@dataclass
class PendingRun:
    id: int | None  # None: the trusted warm-up
    request: RunRequest
    enqueued_at: float
    timeout_s: float
    trusted: bool = False
    background: bool = False  # a trusted run compiling a shipped snippet into the cache
    fair_tag: float = 0.0  # its place among the sessions' runs (app/runner/supervisor/fairness.py)
    kind: str = ACCELERATOR  # the child kind it needs (app/runner/supervisor/placement.py)
    note: str = ""  # why it runs there, when it is not where it asked to be
    client_key: str | None = None  # whom it counts against (app/runner/supervisor/client_limits.py)
    stream: bool = False  # send its output to the Runner while it runs (see pipes.take_live)
    runtime: str = ""  # the JAX runtime's id ("" before submit: the default)


@dataclass
class Child:
    """One forked run process and everything the supervisor holds for it."""

    token: int
    scratch: Path
    cgroup: RunCgroup
    trusted: bool
    request_w: int
    stdout_r: int
    stderr_r: int
    result_r: int
    state: ChildState = "forking"
    pid: int | None = None
    run: PendingRun | None = None
    started_at: float = 0.0
    deadline: float | None = None
    kill_reason: KillReason | None = None
    exit_status: int | None = None
    maxrss_kb: int = 0
    exited_at: float = 0.0
    open_fds: set[int] = field(default_factory=set)
    request_buffer: bytes = b""
    request_pass_fd: int | None = None  # goes along with the request's first byte
    output: list[OutputChunk] = field(default_factory=list)
    last_chunk: dict[str, OutputChunk] = field(default_factory=dict)  # per stream, in output
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    output_bytes: int = 0
    truncated: bool = False
    result_data: bytearray = field(default_factory=bytearray)
    decoders: dict[str, Any] = field(default_factory=dict)
    died_before_run: bool = False
    forked_at: float = 0.0
    ready_at: float | None = None  # the child wrote its layers line: sandboxed, backend up
    code_started: bool = False  # the child read its request: the run's clock runs
    kind: str = ACCELERATOR
    gpu: int | None = None  # the one GPU it sees (multi-GPU hosts)
    layer: Any = None  # its session's compilation-cache layer while it runs
    marks: dict[str, float] = field(default_factory=dict)  # preparation steps (monotonic s)
    ready_memory_mb: float | None = None  # its own memory (cgroup) once ready
    uid: int | None = None  # the run's own uid (app/runner/supervisor/uids.py); None: trusted
    live: list[OutputChunk] = field(default_factory=list)  # output not yet streamed
    live_bytes: int = 0
    live_since: float | None = None  # when the oldest unstreamed output arrived


def make_scratch(run_root: Path, token: int) -> Path:
    """The run's own directory, in a root that is traversable, not listable: a sandboxed run
    (maybe another uid) reaches only its own scratch."""
    scratch = run_root / f"run-{token}"
    run_root.mkdir(mode=0o711, exist_ok=True)
    scratch.mkdir(mode=0o700)
    return scratch


def kill(c: Child) -> None:
    """Stop the run and everything it started: its cgroup, its process group, the process."""
    c.cgroup.kill()
    if c.pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(c.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(c.pid, signal.SIGKILL)


def prep_phases(c: Child) -> dict[str, float]:
    """Where the child's preparation went, in ms: its marks (taken in the child on the same
    monotonic clock) between the fork request and the ready line."""
    order = [("forked", "fork"), ("go", "cgroup_wait"), ("sandboxed", "sandbox"),
             ("backend", "backend"), ("warm", "warm_op")]
    out: dict[str, float] = {}
    previous = c.forked_at
    for mark, phase in order:
        at = c.marks.get(mark)
        if isinstance(at, int | float) and previous <= at <= (c.ready_at or at):
            out[phase] = round((at - previous) * 1000, 1)
            previous = at
    if c.ready_at is not None and out:
        out["ready_line"] = round((c.ready_at - previous) * 1000, 1)
    return out


def run_facts(c: Child, cache_full: bool = False) -> RunFacts:
    """What classify decides from: the child's record, and its cgroup's counters now."""
    assert c.run is not None and c.exit_status is not None
    return RunFacts(
        exit_status=c.exit_status,
        kill_reason=c.kill_reason,
        result_data=bytes(c.result_data),
        stdout=c.stdout,
        stderr=c.stderr,
        output=c.output,
        truncated=c.truncated,
        enqueued_at=c.run.enqueued_at,
        started_at=c.started_at,
        exited_at=c.exited_at,
        timeout_s=c.run.timeout_s,
        cgroup_layers=c.cgroup.layers(),
        cgroup_peak_mb=c.cgroup.peak_memory_mb(),
        maxrss_kb=c.maxrss_kb,
        oom_killed=c.cgroup.oom_killed(),
        cache_full=cache_full,
        target="cpu" if c.kind == "cpu" else "accelerator",
        notes=[c.run.note] if c.run.note else [],
    )


# -- the pool's decisions ---------------------------------------------------------------------


def median(values: Collection[float]) -> float | None:
    return sorted(values)[len(values) // 2] if values else None


def status(children: Collection[Child], prep_times: Collection[float],
           phases: Collection[dict[str, float]] = ()) -> dict[str, Any]:
    """The pool's part of the supervisor's status."""
    states = [c.state for c in children]
    prep = median(prep_times)
    kinds: dict[str, dict[str, int]] = {}
    for c in children:
        if not c.trusted and c.state in ("idle", "running"):
            counts = kinds.setdefault(c.kind, {"idle": 0, "running": 0})
            counts[c.state] += 1
    names = sorted({name for p in phases for name in p})
    return {
        "child_pids": sorted(c.pid for c in children if c.pid),
        "idle": states.count("idle"),
        "ready": sum(1 for c in children if c.state == "idle" and c.ready_at is not None),
        "child_prepare_ms_p50": round(prep * 1000) if prep is not None else None,
        "child_prepare_phases_ms_p50": {
            name: median([p[name] for p in phases if name in p]) for name in names},
        "starting": states.count("forking") + states.count("starting"),
        "running": states.count("running"),
        "kinds": kinds,
    }


def running_user_runs(children: Collection[Child]) -> int:
    return sum(1 for c in children if c.state == "running" and not c.trusted)


def burst_size(arrivals: Iterable[float], now: float, prep_s: float,
               window_s: float = DEMAND_WINDOW_S) -> int:
    """The most runs that arrived within one preparation time of each other (at least
    MIN_BURST_GAP_S, and twice prep_s for the spread of preparation times) in the last window."""
    gap = max(MIN_BURST_GAP_S, 2 * prep_s)
    recent = sorted(a for a in arrivals if now - window_s <= a <= now)
    best, first = 0, 0
    for last, at in enumerate(recent):
        while recent[first] < at - gap:
            first += 1
        best = max(best, last - first + 1)
    return best


def most_waiting(runs_at_once: int, platform: str) -> int:
    """How many children may wait at most. Short runs back to back need about (arrival rate x
    preparation time) children waiting, which can be more than the runs at once: on a CPU host up
    to four per run slot. On an accelerator one per slot: a waiting GPU child holds a CUDA
    context, and the runs' memory shares leave room for about one context per slot."""
    return runs_at_once * (WAITING_PER_SLOT_CPU if platform == "cpu" else 1)


def ready_target(base: int, burst: int, most: int, child_mb: float,
                 memory_cap_mb: float) -> int:
    """How many children of a kind should wait: `base`, or the recent burst, at most `most`
    (most_waiting) and at most what the memory cap allows (never below `base`)."""
    upper = most
    if child_mb > 0:
        upper = min(upper, int(memory_cap_mb // child_mb))
    return max(base, min(burst, upper))


class Demand:
    """When runs of each kind arrived lately (the supervisor's record for sizing the pool)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, deque[float]] = {}

    def record(self, kind: str, now: float) -> None:
        self.arrivals.setdefault(kind, deque(maxlen=512)).append(now)

    def burst(self, kind: str, now: float, prep_s: float) -> int:
        self._forget(now)
        return burst_size(self.arrivals.get(kind, ()), now, prep_s)

    def kinds(self, now: float) -> list[str]:
        self._forget(now)
        return [kind for kind, times in self.arrivals.items() if times]

    def changes_at(self) -> float | None:
        """When the oldest arrival leaves the window (the burst may shrink then)."""
        oldest = [times[0] for times in self.arrivals.values() if times]
        return min(oldest) + DEMAND_WINDOW_S if oldest else None

    def _forget(self, now: float) -> None:
        for times in self.arrivals.values():
            while times and times[0] < now - DEMAND_WINDOW_S:
                times.popleft()


def waiting(children: Collection[Child]) -> list[Child]:
    """Children forked for runs to come: preparing or ready, not handed a run, not on their way
    out."""
    return [c for c in children if c.state in ("forking", "starting", "idle") and c.run is None
            and c.kill_reason is None and not c.trusted]


def to_fork(children: Collection[Child], wanted_waiting: int, queued: int, free_slots: int,
            one_at_a_time: bool) -> int:
    """How many children of one kind to fork now: `wanted_waiting` (ready_target) waiting, plus
    one for each queued run of the kind that has a free slot."""
    wanted = wanted_waiting + min(queued, max(0, free_slots))
    if one_at_a_time:  # TPU: never two processes that may touch the chip
        wanted = min(wanted, 1)
    return max(0, wanted - len(waiting(children)))


def spares(children: Collection[Child], keep: int) -> list[Child]:
    """The waiting children beyond `keep` (the newest ones); none while a run runs."""
    if any(c.state == "running" for c in children):
        return []
    idle = [c for c in children
            if c.state == "idle" and c.run is None and not c.trusted and c.kill_reason is None]
    idle.sort(key=lambda c: c.token)
    return idle[keep:]


def next_for_queue(children: Collection[Child], kind: str = ACCELERATOR) -> Child | None:
    """The child of `kind` for the next queued run: on the GPU with the fewest running runs, a
    ready one first, else the one that started preparing first."""
    idle = [c for c in children if c.state == "idle" and not c.trusted and c.kill_reason is None
            and c.run is None and c.kind == kind]
    if not idle:
        return None
    load = gpu_load(children)
    return min(idle, key=lambda c: (load.get(c.gpu, 0), c.ready_at is None, c.token))


def gpu_load(children: Collection[Child]) -> dict[int | None, int]:
    """Running runs per GPU."""
    load: dict[int | None, int] = {}
    for c in children:
        if c.state == "running":
            load[c.gpu] = load.get(c.gpu, 0) + 1
    return load


def pick_gpu(children: Collection[Child], gpus: int) -> int:
    """The GPU for a new one-GPU child: the one with the fewest children (running, waiting or
    preparing) on it, the lowest index on a tie."""
    held = [0] * gpus
    for c in children:
        if c.gpu is not None and 0 <= c.gpu < gpus and c.state != "exited":
            held[c.gpu] += 1
    return min(range(gpus), key=lambda i: (held[i], i))


def queued_run(queue: Iterable[PendingRun], run_id: int) -> PendingRun | None:
    """The waiting run with this id, if it is still in the queue."""
    return next((run for run in queue if run.id == run_id), None)


def running_child(children: Collection[Child], run_id: int) -> Child | None:
    """The child running the run with this id, while it may still be stopped: handed to a
    child, not yet exited, not already being killed for another reason."""
    return next((c for c in children if c.run is not None and c.run.id == run_id
                 and c.state == "running" and c.kill_reason is None), None)


@dataclass
class SetupHealth:
    """Children dying at set-up, before any run: after a few in a row the pool stops forking for
    a while and runs are answered at once, instead of forking in a loop."""

    failures: int = 0
    last_error: str = ""
    last_failure: float = 0.0

    def failing(self) -> bool:
        return (self.failures >= SETUP_FAILURES_BEFORE_GIVING_UP
                and time.monotonic() - self.last_failure < SETUP_RETRY_S)

    def died_at_setup(self, c: Child) -> bool:
        """Count a child that exited before its run, unless it exited cleanly or by our SIGKILL;
        True: the pool is failing now."""
        assert c.exit_status is not None
        code = os.waitstatus_to_exitcode(c.exit_status)
        if code in (0, -signal.SIGKILL):
            return False
        self.failures += 1
        self.last_failure = time.monotonic()
        self.last_error = "".join(c.stderr)[-2000:] or f"exit status {code}"
        return self.failing()

    def give_up(self, error: str) -> None:
        """Fail at once, as if children had died at set-up several times."""
        self.last_error = error
        self.failures = SETUP_FAILURES_BEFORE_GIVING_UP
        self.last_failure = time.monotonic()

    def result(self) -> RunResult:
        return RunResult(
            status="crashed",
            message="The sandbox could not start a run on this host: "
            + (self.last_error.strip().splitlines() or ["unknown error"])[-1],
        )

