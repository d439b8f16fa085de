"""The run-outcome decision: from what the supervisor observed of one run to its RunResult.

Pure: no processes, no cgroup files, no clocks. The supervisor gathers the facts (wait status,
why it killed the run, cgroup counters, what came on the pipes) into RunFacts and calls classify.
A run's status is taken from the wait status, the kill reason and the cgroup counters; the
report the run wrote is read only when the supervisor did not kill it, so a forged report can
never turn a kill into a success. The report is the run's own word (its code can write anything
there): it is decoded strictly and bounded (app/decoding.py), a report that cannot be decoded
ends the run `crashed`, and of its fields only the error, the value and the views are taken,
all shown to that run's session alone; the platform is the supervisor's word (the host's, or
"cpu" for a run it placed in a CPU child), never the report's.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from typing import Literal

from app import decoding
from app.config import Settings
from app.protocol import OutputChunk, RunResult, WorkerReport
from app.runner import limits
from app.runner.policy import cpu_limit_s
from app.runner.supervisor import oom_guard

KillReason = Literal["timeout", "output", "result", "cache", "shutdown", "zygote", "cancelled",
                     "oom_score"]
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
    target: str | None = None  # the child kind it ran in (app/runner/supervisor/placement.py)
    notes: list[str] = field(default_factory=list)  # how it was run, for the person


def ready_line(line: bytes) -> tuple[dict[str, bool], dict[str, float]]:
    """The child's first line: {"layers": {...}, "marks": {...}} (sandbox layers, preparation
    marks). Written by the child before any user code, so trusted; still bounded and never
    allowed to raise."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return {}, {}
    if not isinstance(data, dict):
        return {}, {}
    layers = data.get("layers", {})
    marks = data.get("marks", {})
    return ({str(k)[:40]: bool(v) for k, v in list(layers.items())[:64]}
            if isinstance(layers, dict) else {},
            {str(k)[:40]: float(v) for k, v in list(marks.items())[:64]
             if isinstance(v, int | float)} if isinstance(marks, dict) else {})


@dataclass
class Report:
    """What came of a run's report: the decoded report, or why there is none."""

    report: WorkerReport | None = None
    problem: str = ""  # the bytes that came could not be decoded: why


def split_result(result_data: bytes) -> tuple[bytes, bytes, bytes]:
    """The result pipe's layers line, its "started" line, and the report after them."""
    layers_line, _, rest = bytes(result_data).partition(b"\n")
    started, _, report_data = rest.partition(b"\n")
    return layers_line, started, report_data


def report_data(c: RunFacts) -> bytes:
    """The report bytes classify reads: none when the supervisor killed the run."""
    return b"" if c.kill_reason is not None else split_result(c.result_data)[2]


def read_report(data: bytes, max_bytes: int) -> Report:
    """Decode a run's report; any failure is a problem of that run alone."""
    if not data:
        return Report()
    try:
        return Report(decoding.decode(WorkerReport, data, max_bytes=max_bytes))
    except decoding.DecodeError as exc:
        return Report(problem=str(exc)[:300])


def size_text(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


def unqueued(queue_s: float) -> RunResult:
    """The result of a run stopped while it waited in the queue: nothing of it ran."""
    return RunResult(status="cancelled", queue_s=round(queue_s, 4), message=UNQUEUED_MESSAGE)


def _is_memory_error(kind: str, message: str) -> bool:
    """Host MemoryError (RLIMIT_DATA), a mapping refused with ENOMEM (RLIMIT_AS: mmap raises
    OSError), or XLA failing to allocate on the device."""
    return (kind == "MemoryError" or "RESOURCE_EXHAUSTED" in message
            or (kind == "OSError" and message.startswith("[Errno 12]")))


def classify(c: RunFacts, settings: Settings, platform: str,
             decoded: Report | None = None) -> RunResult:
    """The RunResult of a finished run; platform is the host's ("cpu", "gpu", "tpu"); a run the
    supervisor placed in a CPU child (c.target "cpu") ran on the CPU whatever the host has.

    decoded: the run's report, decoded already (the supervisor decodes large ones in another
    process); None: decode it here."""
    s = settings
    layers, _marks = ready_line(split_result(c.result_data)[0])
    layers.update(c.cgroup_layers)
    if decoded is None:
        decoded = read_report(report_data(c), s.result_bytes)
    report = decoded.report
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
        limits=limits.describe(layers, s, oom_guard.kernel_keeps_minimum()) if layers else {},
        truncated=c.truncated,
        platform="cpu" if c.target == "cpu" else platform,
        target=c.target,
        notes=list(c.notes),
    )
    if report is not None:
        result.error = report.error
        result.value_repr = report.value_repr
        result.value_tree = report.value_tree
        result.inspect = report.inspect
        result.compilations = report.compilations
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
    elif c.kill_reason == "oom_score":
        result.status = "crashed"
        result.message = ("Stopped: the run lowered its OOM score (/proc/self/oom_score_adj); "
                          "a run stays the first process the kernel ends when memory runs out.")
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
    elif decoded.problem:
        result.status = "crashed"
        result.message = f"The run's report could not be read: {decoded.problem}."
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
