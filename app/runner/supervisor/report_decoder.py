"""Large run reports are decoded in a process of their own, off the supervisor's loop.

The supervisor is one thread serving every run: a report that is slow to decode (a 7.8 MB one
with 300k entries took 13 s) once held up every other run. A report up to INLINE_BYTES is decoded
in the supervisor (a few ms at worst, measured: see docs/benchmarks.md); a larger one in a process
forked from the supervisor for that report alone, with its own memory and CPU limits and a wall
clock, so a slow or hostile decode delays only its own run. The decoder writes back the checked
report re-encoded ("+" and JSON, holding only the fields and entries the schema allows) or why it
failed ("-" and a sentence); the supervisor decodes that answer again, strictly, so it never
trusts even its own helper beyond the schema.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import resource
import selectors
import signal
import time
from dataclasses import dataclass, field
from typing import NoReturn

from app import decoding, protocol
from app.protocol import WorkerReport
from app.runner.supervisor import outcome
from app.runner.supervisor.outcome import Report

INLINE_BYTES = 16 * 1024  # decoded in the supervisor itself up to this size (<= ~5 ms)
DECODE_TIMEOUT_S = 20.0  # wall clock for one decode
DECODE_CPU_S = 15  # RLIMIT_CPU of a decoder
DECODE_MEMORY_BYTES = 1 << 30  # address space a decoder may add to what it inherits
READ_CHUNK = 1 << 16
PR_SET_PDEATHSIG = 1


@dataclass
class _Job:
    key: int
    pid: int
    fd: int
    deadline: float
    answer: bytearray = field(default_factory=bytearray)


class Decoders:
    """The decoders in flight, their pipes registered with the supervisor's selector."""

    def __init__(self, selector: selectors.BaseSelector, max_bytes: int) -> None:
        self.selector = selector
        self.max_bytes = max_bytes
        self.jobs: dict[int, _Job] = {}  # by fd
        self.keys = itertools.count(1)

    def __len__(self) -> int:
        return len(self.jobs)

    def start(self, data: bytes) -> int | None:
        """Fork a decoder for `data`; its key, or None if no process could be started."""
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:
            _decoder(data, self.max_bytes, write_fd)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        job = _Job(next(self.keys), pid, read_fd, time.monotonic() + DECODE_TIMEOUT_S)
        self.jobs[read_fd] = job
        self.selector.register(read_fd, selectors.EVENT_READ, ("decode", None))
        return job.key

    def on_readable(self, fd: int) -> tuple[int, Report] | None:
        """Read what a decoder wrote; at its end, (key, decoded report)."""
        job = self.jobs.get(fd)
        if job is None:
            return None
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return None
        except OSError:
            chunk = b""
        if chunk:
            job.answer += chunk
            if len(job.answer) <= self._answer_limit():
                return None
            return job.key, self._end(job, Report(problem="the decoder's answer was too large"))
        return job.key, self._end(job, self._read_answer(bytes(job.answer)))

    def expired(self, now: float) -> list[tuple[int, Report]]:
        """Decoders past their wall clock: killed, their runs told why."""
        late = [job for job in self.jobs.values() if now >= job.deadline]
        problem = f"decoding it took longer than {DECODE_TIMEOUT_S:g} s"
        return [(job.key, self._end(job, Report(problem=problem))) for job in late]

    def wake_times(self) -> list[float]:
        return [job.deadline for job in self.jobs.values()]

    def close(self) -> list[int]:
        """Kill every decoder; the keys of the runs that get no decoded report."""
        keys = []
        for job in list(self.jobs.values()):
            self._end(job, Report())
            keys.append(job.key)
        return keys

    def _answer_limit(self) -> int:
        # The answer re-encodes at most what came in; numbers may grow ("1" -> "1.0").
        return 2 * self.max_bytes + (1 << 20)

    def _read_answer(self, answer: bytes) -> Report:
        if answer[:1] == b"+":
            # Lone surrogates (an exception message made from undecodable bytes) pass as such.
            text = answer[1:].decode("utf-8", "surrogatepass")
            try:
                return Report(decoding.decode(WorkerReport, text, max_bytes=len(text)))
            except decoding.DecodeError as exc:
                return Report(problem=f"the decoder's answer was not valid: {exc}"[:300])
        if answer[:1] == b"-":
            return Report(problem=answer[1:301].decode("utf-8", "replace"))
        return Report(problem="the decoder stopped without an answer")

    def _end(self, job: _Job, decoded: Report) -> Report:
        # The supervisor is a subreaper and reaps every child in reap(); a kill is enough here.
        with contextlib.suppress(ProcessLookupError):
            os.kill(job.pid, signal.SIGKILL)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(job.fd)
        self.jobs.pop(job.fd, None)
        os.close(job.fd)
        return decoded


def _decoder(data: bytes, max_bytes: int, write_fd: int) -> NoReturn:
    """Body of the forked decoder: decode, answer, exit. Never returns."""
    try:
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)  # the supervisor's: its signals are not ours
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        _die_with_the_supervisor()
        # Hold nothing of the supervisor's: a copy of a run's request pipe kept open here would
        # keep that run waiting for its end of file until this decoder exits.
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, os.sysconf("SC_OPEN_MAX"))
        _limit_resources()
        decoded = outcome.read_report(data, max_bytes)
        if decoded.report is not None:
            answer = b"+" + json.dumps(protocol.to_dict(decoded.report),
                                       ensure_ascii=False).encode("utf-8", "surrogatepass")
        else:
            answer = b"-" + decoded.problem.encode("utf-8", "replace")
    except MemoryError:
        answer = b"-decoding it needed more memory than a decoder may use"
    except BaseException as exc:  # never let the helper's failure look like a report
        answer = b"-the decoder failed: " + type(exc).__name__.encode()
    try:
        view = memoryview(answer)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _die_with_the_supervisor() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _limit_resources() -> None:
    with open("/proc/self/statm") as f:
        inherited = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = inherited + DECODE_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # A forked process starts with no CPU time of its own.
    resource.setrlimit(resource.RLIMIT_CPU, (DECODE_CPU_S, DECODE_CPU_S + 1))
