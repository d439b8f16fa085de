"""The run-outcome decision: from what the supervisor observed of one run to its RunResult.

Pure: no processes, no cgroup files, no clocks. The supervisor gathers the facts (wait status,
why it killed the run, cgroup counters, what came on the pipes) into RunFacts and calls classify.
A run's status is taken from the wait status, the kill reason and the cgroup counters; the
report the run wrote is read only when the supervisor did not kill it, so a forged report can
never turn a kill into a success.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass, field
from typing import Literal

from app import protocol
from app.config import Settings
from app.protocol import OutputChunk, RunResult, WorkerReport
from app.runner.policy import cpu_limit_s

KillReason = Literal["timeout", "output", "result", "cache", "shutdown", "zygote", "cancelled"]
STOPPED_MESSAGE = "You stopped the run after {seconds:.1f} s; what it printed is kept."
UNQUEUED_MESSAGE = "You stopped the run while it waited in the queue; none of it ran."


@dataclass
class RunFacts:
    """Everything classify reads about one finished run."""

    exit_status: int  # as os.waitpid returns it (a wait status, not an exit code)
    kill_reason: KillReason | None = None  # why the supervisor killed the run, if it did
    result_data: bytes = b""  # the result pipe: layers line, "started" line, then the report
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    output: list[OutputChunk] = field(default_factory=list)
    truncated: bool = False
    enqueued_at: float = 0.0  # monotonic clock
    started_at: float = 0.0
    exited_at: float = 0.0
    timeout_s: float = 0.0  # the run's own wall-clock limit
    cgroup_layers: dict[str, bool] = field(default_factory=dict)
    cgroup_peak_mb: float | None = None  # the memory cgroup's peak, where there is one
    maxrss_kb: int = 0  # the process's own peak, used when the cgroup gives none
    oom_killed: bool = False  # the memory cgroup's OOM killer fired
    cache_full: bool = False  # the run filled its session's compilation-cache layer
    target: str | None = None  # the child kind it ran in (app/runner/placement.py)
    notes: list[str] = field(default_factory=list)  # how it was run, for the person


def ready_line(line: bytes) -> tuple[dict[str, bool], dict[str, float]]:
    """The child's first line: {"layers": {...}, "marks": {...}} (sandbox layers, preparation
    marks). Written before any user code; read with care all the same."""
    try:
        data = json.loads(line)
    except ValueError:
        return {}, {}
    if not isinstance(data, dict):
        return {}, {}
    layers = data.get("layers", {})
    marks = data.get("marks", {})
    return ({str(k): bool(v) for k, v in layers.items()} if isinstance(layers, dict) else {},
            {str(k): float(v) for k, v in marks.items() if isinstance(v, int | float)}
            if isinstance(marks, dict) else {})


def size_text(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


def unqueued(queue_s: float) -> RunResult:
    """The result of a run stopped while it waited in the queue: nothing of it ran."""
    return RunResult(status="cancelled", queue_s=round(queue_s, 4), message=UNQUEUED_MESSAGE)


def _is_memory_error(kind: str, message: str) -> bool:
    """Host MemoryError (RLIMIT_DATA), or XLA failing to allocate on the device."""
    return kind == "MemoryError" or "RESOURCE_EXHAUSTED" in message


def classify(c: RunFacts, settings: Settings, platform: str) -> RunResult:
    """The RunResult of a finished run; platform is the host's ("cpu", "gpu", "tpu")."""
    s = settings
    layers_line, _, rest = bytes(c.result_data).partition(b"\n")
    _started, _, report_data = rest.partition(b"\n")
    layers, _marks = ready_line(layers_line)
    layers.update(c.cgroup_layers)
    report: WorkerReport | None = None
    if report_data and c.kill_reason is None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            report = protocol.from_json(WorkerReport, report_data.decode())
    peak = c.cgroup_peak_mb
    if peak is None and c.maxrss_kb:
        peak = c.maxrss_kb / 1024
    result = RunResult(
        status="ok",
        stdout="".join(c.stdout),
        stderr="".join(c.stderr),
        output=c.output,
        duration_s=round(c.exited_at - c.started_at, 4),
        queue_s=round(c.started_at - c.enqueued_at, 4),
        peak_memory_mb=round(peak, 1) if peak is not None else None,
        sandbox=layers,
        truncated=c.truncated,
        platform=platform,
        target=c.target,
        notes=list(c.notes),
    )
    if report is not None:
        result.error = report.error
        result.value_repr = report.value_repr
        result.value_tree = report.value_tree
        result.inspect = report.inspect
        result.compilations = report.compilations
        result.platform = report.platform or result.platform
        counts = report.compile_cache if isinstance(report.compile_cache, dict) else {}
        result.compile_cache = {str(k)[:40]: v for k, v in list(counts.items())[:8]
                                if isinstance(v, int) and not isinstance(v, bool)}
        result.check = report.check
    status = c.exit_status
    signalled = os.WIFSIGNALED(status)
    sig = os.WTERMSIG(status) if signalled else 0
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    if c.kill_reason == "cancelled":
        result.status = "cancelled"
        result.message = STOPPED_MESSAGE.format(seconds=max(0.0, c.exited_at - c.started_at))
    elif c.kill_reason == "timeout":
        result.status = "timeout"
        result.message = f"Stopped: the run took longer than {c.timeout_s:g} s."
    elif c.kill_reason == "output":
        result.status = "output_limit"
        result.truncated = True
        result.message = (f"Stopped: the run printed more than {size_text(s.output_bytes)}; "
                          "the output is truncated.")
    elif c.kill_reason == "result":
        result.status = "output_limit"
        result.truncated = True
        result.message = (f"Stopped: the run's result (views, values) was larger than "
                          f"{size_text(s.result_bytes)}.")
    elif c.kill_reason == "cache" or c.cache_full:
        result.status = "output_limit"
        stopped = "and was stopped" if c.kill_reason == "cache" else "as it ended"
        result.message = (f"The run filled its session's compilation cache "
                          f"({s.session_cache_mb} MiB) {stopped}; the cache was emptied, so the "
                          "next run starts with a fresh one.")
    elif c.oom_killed:
        result.status = "memory"
        result.message = (f"Out of memory: the run went over its {s.memory_mb} MiB and "
                          "was stopped.")
    elif report and report.error and _is_memory_error(report.error.type,
                                                      report.error.message):
        result.status = "memory"
        where = f" on line {report.error.line}" if report.error.line else ""
        detail = report.error.message.strip().splitlines()[0][:200] if \
            report.error.message.strip() else report.error.type
        result.message = (f"Out of memory{where}: {detail} (host limit {s.memory_mb} MiB"
                          + (", accelerator memory is shared by the runs)"
                             if platform != "cpu" else ")"))
    elif signalled and sig == signal.SIGXCPU:
        result.status = "timeout"
        cores = max(1, s.cores_per_run)
        result.message = (f"Stopped: the run used more than {cpu_limit_s(s):g} s of CPU time "
                          f"({s.cpu_s:g} s per core of its {cores}-core share).")
    elif c.kill_reason in ("shutdown", "zygote"):
        result.status = "crashed"
        result.message = "The run was stopped because the runner restarted."
    elif signalled:
        result.status = "crashed"
        result.message = f"The run's process was killed by {signal.Signals(sig).name}."
    elif report is None:
        result.status = "crashed"
        result.message = (f"The run's process exited (code {code}) before reporting "
                          "a result.")
    elif code != 0:
        result.status = "crashed"
        result.message = f"The run's process exited with code {code} after reporting."
    elif report.error is not None:
        result.status = "error"
        where = f" on line {report.error.line}" if report.error.line else ""
        result.message = f"{report.error.type}{where}: {report.error.message}"[:500]
    else:
        result.message = "Finished."
    return result
