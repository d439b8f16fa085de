"""The preforked children: what the supervisor holds for each one, and the pool's decisions.

A run starts in a child the zygote forked before the run arrived, already sandboxed with its
backend up, so the pool is sized ahead of demand. The supervisor owns the records; the decisions
(how many to fork, which child gets the next run, which spares to drop, when to stop forking)
are functions of the records here, so they hold no state of their own and read in one place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner import sandbox
from app.runner.outcome import KillReason, RunFacts

POOL_SHRINK_S = 5.0  # a burst's spare child is kept this long after a run last waited for one
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
    fair_tag: float = 0.0  # its place among the sessions' runs (app/runner/fairness.py)
    client_key: str | None = None  # whom it counts against (app/runner/client_limits.py)
    stream: bool = False  # send its output to the Runner while it runs (see pipes.take_live)


@dataclass
class Child:
    """One forked run process and everything the supervisor holds for it."""

    token: int
    scratch: Path
    cgroup: sandbox.RunCgroup
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
    uid: int | None = None  # the run's own uid (app/runner/uids.py); None: trusted
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


def run_facts(c: Child) -> RunFacts:
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
    )


# -- the pool's decisions ---------------------------------------------------------------------


def status(children: Collection[Child], prep_times: Collection[float]) -> dict[str, Any]:
    """The pool's part of the supervisor's status."""
    states = [c.state for c in children]
    return {
        "child_pids": sorted(c.pid for c in children if c.pid),
        "idle": states.count("idle"),
        "ready": sum(1 for c in children if c.state == "idle" and c.ready_at is not None),
        "child_prepare_ms_p50": round(sorted(prep_times)[len(prep_times) // 2] * 1000)
        if prep_times else None,
        "starting": states.count("forking") + states.count("starting"),
        "running": states.count("running"),
    }


def running_user_runs(children: Collection[Child]) -> int:
    return sum(1 for c in children if c.state == "running" and not c.trusted)


def to_fork(children: Collection[Child], prefork: int, queued: int, max_concurrent: int,
            spare: bool, one_at_a_time: bool) -> int:
    """How many children to fork now: `prefork` waiting, plus one for each queued run that has
    a free slot, plus one spare during a burst: when a run had to wait for a child still
    preparing (~40-140 ms here), requests come faster than one child at a time can be prepared.
    The spare is dropped again POOL_SHRINK_S after the last such wait (see spares)."""
    waiting = sum(1 for c in children
                  if c.state in ("forking", "idle") and c.kill_reason is None and not c.trusted)
    wanted = prefork + min(queued, max_concurrent - running_user_runs(children))
    if spare:
        wanted += 1
    if one_at_a_time:  # TPU: never two processes that may touch the chip
        wanted = min(wanted, 1)
    return max(0, wanted - waiting)


def spares(children: Collection[Child], prefork: int) -> list[Child]:
    """The waiting children beyond `prefork` (the newest ones); none while a run runs."""
    if any(c.state == "running" for c in children):
        return []
    idle = [c for c in children
            if c.state == "idle" and c.run is None and not c.trusted and c.kill_reason is None]
    idle.sort(key=lambda c: c.token)
    return idle[prefork:]


def more_than_prefork_idle(children: Collection[Child], prefork: int) -> bool:
    """Children wait beyond `prefork`: the supervisor wakes up to drop them (see spares)."""
    waiting = sum(1 for c in children
                  if c.state == "idle" and c.run is None and c.kill_reason is None)
    return waiting > prefork


def queued_run(queue: Iterable[PendingRun], run_id: int) -> PendingRun | None:
    """The waiting run with this id, if it is still in the queue."""
    return next((run for run in queue if run.id == run_id), None)


def running_child(children: Collection[Child], run_id: int) -> Child | None:
    """The child running the run with this id, while it may still be stopped: handed to a
    child, not yet exited, not already being killed for another reason."""
    return next((c for c in children if c.run is not None and c.run.id == run_id
                 and c.state == "running" and c.kill_reason is None), None)


def next_for_queue(children: Collection[Child]) -> Child | None:
    """The child for the next queued run: a ready one first, else the one that started
    preparing first."""
    idle = [c for c in children if c.state == "idle" and not c.trusted and c.kill_reason is None]
    return min(idle, key=lambda c: (c.ready_at is None, c.token)) if idle else None


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

