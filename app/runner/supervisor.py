"""The supervisor: a single-threaded process that owns the queue, the clocks, the caps and the pool.

Started by the Runner as `python -m app.runner.supervisor`; speaks JSON lines on stdin/stdout:

    runner -> supervisor  {"op": "init", "settings": {...}}          first line
                          {"op": "run", "id": N, "request": {...}}
                          {"op": "status", "id": N}
                          {"op": "shutdown"}
    supervisor -> runner  {"event": "hello", ...}                     platform, layers, limits
                          {"event": "warm", "ok": bool, ...}           the warm-up finished
                          {"event": "queued", "id": N, "position": P}
                          {"event": "running", "id": N}
                          {"event": "result", "id": N, "result": {...RunResult}}
                          {"event": "status", "id": N, "status": {...}}
                          {"event": "fatal", "message": "..."}

EOF on stdin (the Runner's process died) shuts everything down. Runs are children of the zygote;
this process is their subreaper too, so a run orphaned by a dying zygote is still reaped here.
It never opens a path a run created: results arrive on pipes, scratch dirs are removed with
shutil.rmtree, which does not follow symlinks.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import dataclasses
import fcntl
import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app import protocol
from app.config import Settings
from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner import child as child_module
from app.runner import outcome, sandbox, warmup
from app.runner import platform as platform_module
from app.runner.outcome import KillReason, RunFacts, _size
from app.runner.outcome import _is_memory_error as _is_memory_error  # where tests import it

PR_SET_CHILD_SUBREAPER = 36
F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20
READ_CHUNK = 1 << 16
DRAIN_S = 0.5  # after a run exits, wait this long for its pipes to close
ZYGOTE_START_S = 120.0
WARMUP_TIMEOUT_S = 120.0
TRUNCATION_MARK = "\n[output truncated: the run printed more than {limit} and was stopped]\n"
SETUP_FAILURES_BEFORE_GIVING_UP = 3
SETUP_RETRY_S = 30.0  # then try forking again
POOL_SHRINK_S = 5.0  # a burst's spare child is kept this long after a run last waited for one
MIN_TIMEOUT_S = 0.1  # a request asking for less (or a negative time) gets this
PREPARE_GRACE_S = 10.0  # a child handed a run while still preparing gets this much extra
ZYGOTE_QUICK_DEATH_S = 10.0  # a zygote that dies this soon after start, several times in a row,
ZYGOTE_BACKOFF_S = 5.0  # ... is restarted only after this pause
ZYGOTE_FAILING = "the zygote process keeps exiting at start"

ChildState = Literal["forking", "starting", "idle", "running", "exited"]


@dataclass
class PendingRun:
    id: int | None  # None: the trusted warm-up
    request: RunRequest
    enqueued_at: float
    timeout_s: float
    trusted: bool = False
    background: bool = False  # a trusted run compiling a shipped snippet into the cache


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


class Supervisor:
    def __init__(self, settings: Settings, warm_snippets: bool = False) -> None:
        self.settings = settings
        self.selector = selectors.DefaultSelector()
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # stray prints must never corrupt the protocol stream
        self.in_buffer = b""
        self.queue: deque[PendingRun] = deque()
        self.children: dict[int, Child] = {}  # token -> child
        self.by_pid: dict[int, Child] = {}
        self.by_fd: dict[int, Child] = {}
        self.tokens = itertools.count(1)
        self.started = time.time()
        self.stopping = False
        self.zygote: subprocess.Popen[bytes] | None = None
        self.zygote_sock: socket.socket | None = None
        self.zygote_ready = False
        self.zygote_threads = 0
        self.zygote_restarts = 0
        self.zygote_started_at = 0.0
        self.zygote_quick_deaths = 0
        self.zygote_restart_at: float | None = None
        self.setup_failures = 0
        self.last_setup_error = ""
        self.last_setup_failure = 0.0
        self.runs_total = 0
        self.status_counts: dict[str, int] = {}
        self.warm: dict[str, Any] = {"done": False}
        self.prep_times: deque[float] = deque(maxlen=50)
        self.spare_until = 0.0  # keep one extra child waiting until then (bursts)
        self.run_root = platform_module.state_dir(settings) / f"runs-{os.getpid()}"
        self.info = platform_module.detect(settings)
        self.fatal = ""
        try:
            self.layers = sandbox.probe(settings)
        except sandbox.SandboxUnavailable as exc:  # fail closed: the operator asked for it
            self.layers = {}
            self.fatal = f"This server does not run code: {exc}"
        self.max_concurrent = self.info.max_concurrent
        self.warm_marker = self.warm_marker_path()
        self.warm_snippets = warm_snippets
        self.background: deque[PendingRun] = deque()
        self.snippets_marker = self.warm_marker
        self.snippets_total = self.snippets_warmed = 0
        if self.warm_marker.exists():  # an earlier supervisor filled this cache already
            self.warm = {"done": True, "ok": True, "status": "cached"}
            self.plan_snippet_warmup()

    def plan_snippet_warmup(self) -> None:
        if not self.warm_snippets:
            return
        plan = warmup.plan_snippets(self.warm_marker)
        self.snippets_marker = plan.marker
        if not plan.requests:
            return
        self.snippets_total = len(plan.requests)
        self.warm["snippets"] = f"0/{self.snippets_total}"
        now = time.monotonic()
        self.background = deque(
            PendingRun(None, request, now, self.settings.max_timeout_s,
                       trusted=True, background=True)
            for request in plan.requests
        )

    def warm_marker_path(self) -> Path:
        """Names the cache contents: the same JAX, flags and devices give the same entries."""
        return warmup.warm_marker_path(self.settings, self.info)

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
        }

    def status(self) -> dict[str, Any]:
        states = [c.state for c in self.children.values()]
        return {
            "supervisor_pid": os.getpid(),
            "zygote_pid": self.zygote.pid if self.zygote else None,
            "zygote_ready": self.zygote_ready,
            "zygote_threads": self.zygote_threads,
            "zygote_restarts": self.zygote_restarts,
            "child_pids": sorted(c.pid for c in self.children.values() if c.pid),
            "idle": states.count("idle"),
            "ready": sum(1 for c in self.children.values()
                         if c.state == "idle" and c.ready_at is not None),
            "child_prepare_ms_p50": round(sorted(self.prep_times)[len(self.prep_times) // 2]
                                          * 1000) if self.prep_times else None,
            "starting": states.count("forking") + states.count("starting"),
            "running": states.count("running"),
            "queued": len(self.queue),
            "runs_total": self.runs_total,
            "status_counts": dict(self.status_counts),
            "platform": self.info.platform,
            "device_count": self.info.device_count,
            "device_kind": self.info.device_kind,
            "notes": self.info.notes,
            "layers": self.layers,
            "limits": self.limits(),
            "warm": self.warm,
            "last_setup_error": self.last_setup_error,
            "fatal": self.fatal,
            "uptime_s": round(time.time() - self.started, 1),
        }

    # -- zygote -------------------------------------------------------------------------------

    def start_zygote(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        settings_json = json.dumps(dataclasses.asdict(self.settings))
        preinit = "1" if self.info.preinit_backend else "0"
        self.zygote = subprocess.Popen(
            [sys.executable, "-m", "app.runner.zygote", str(theirs.fileno()), settings_json,
             preinit],
            env=self.info.env,
            cwd=str(platform_module.REPO_ROOT),
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.zygote_sock = ours
        self.zygote_ready = False
        self.zygote_started_at = time.monotonic()
        self.selector.register(ours, selectors.EVENT_READ, ("zygote", None))

    def kill_zygote(self) -> None:
        # Not Popen.kill: it polls first, which would reap the zygote behind reap()'s back.
        if self.zygote is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.zygote.pid, signal.SIGKILL)

    def zygote_died(self) -> None:
        if self.zygote_sock is not None:
            self.selector.unregister(self.zygote_sock)
            self.zygote_sock.close()
            self.zygote_sock = None
        self.zygote = None
        self.zygote_ready = False
        # Children still forking never got a pid; the running ones die with the zygote
        # (parent-death signal) and are reaped here as their subreaper.
        for c in list(self.children.values()):
            if c.state == "forking":
                self.discard(c)
            elif c.state in ("starting", "idle", "running"):
                c.kill_reason = c.kill_reason or "zygote"
                self.kill(c)
        if self.stopping:
            return
        self.zygote_restarts += 1
        if time.monotonic() - self.zygote_started_at < ZYGOTE_QUICK_DEATH_S:
            self.zygote_quick_deaths += 1
        else:
            self.zygote_quick_deaths = 0
        if self.zygote_quick_deaths >= 3:
            # Broken environment (imports fail): do not spin; answer the waiting runs.
            self.zygote_restart_at = time.monotonic() + ZYGOTE_BACKOFF_S
            self.last_setup_error = ZYGOTE_FAILING + " (see the server log)"
            self.setup_failures = SETUP_FAILURES_BEFORE_GIVING_UP
            self.last_setup_failure = time.monotonic()
            self.fail_queue()
        else:
            self.start_zygote()

    def on_zygote_message(self) -> None:
        assert self.zygote_sock is not None
        try:
            data = self.zygote_sock.recv(1 << 16)
        except OSError:
            data = b""
        if not data:  # it died or is dying; reap() sees its exit and restarts it
            self.selector.unregister(self.zygote_sock)
            self.zygote_sock.close()
            self.zygote_sock = None
            self.zygote_ready = False
            self.kill_zygote()
            self.reap()
            return
        message = json.loads(data)
        if "hello" in message:
            if self.last_setup_error.startswith(ZYGOTE_FAILING):
                self.setup_failures = 0  # it starts again: so may the children
            self.zygote_ready = True
            self.zygote_threads = int(message.get("threads", 0))
            self.fill_pool()
        elif "forked" in message:
            c = self.children.get(int(message["forked"]))
            if c is None:
                return
            c.pid = int(message["pid"])
            self.by_pid[c.pid] = c
            c.cgroup.attach(c.pid)
            c.state = "idle"
            self.write_request(c, b"go\n")
            self.dispatch()
        elif "exited" in message:
            self.on_exit(int(message["exited"]), int(message["status"]),
                         int(message.get("maxrss_kb", 0)))

    # -- the pool -----------------------------------------------------------------------------

    def fork_child(self, trusted: bool = False) -> Child | None:
        if self.zygote_sock is None or not self.zygote_ready:
            return None
        token = next(self.tokens)
        scratch = self.run_root / f"run-{token}"
        self.run_root.mkdir(mode=0o711, exist_ok=True)
        scratch.mkdir(mode=0o700)
        request_r, request_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        result_r, result_w = os.pipe()
        for fd in (request_w, stdout_r, result_r):
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
        run_id = f"{os.getpid()}-{token}"
        c = Child(token, scratch, sandbox.RunCgroup(run_id, self.settings), trusted,
                  request_w, stdout_r, stderr_r, result_r)
        message = json.dumps(
            {"op": "fork", "token": token, "scratch": str(scratch), "trusted": trusted}
        ).encode()
        try:
            socket.send_fds(self.zygote_sock, [message],
                            [request_r, stdout_w, stderr_w, result_w])
        except OSError:
            os.close(request_r)
            for fd in (stdout_w, stderr_w, result_w):
                os.close(fd)
            self.discard(c)
            return None
        for fd in (request_r, stdout_w, stderr_w, result_w):
            os.close(fd)
        for fd in (request_w, stdout_r, stderr_r, result_r):
            os.set_blocking(fd, False)
        for fd, kind in ((stdout_r, "stdout"), (stderr_r, "stderr"), (result_r, "result")):
            self.selector.register(fd, selectors.EVENT_READ, ("pipe", kind))
            self.by_fd[fd] = c
            c.open_fds.add(fd)
        for stream in ("stdout", "stderr"):
            c.decoders[stream] = codecs.getincrementaldecoder("utf-8")("replace")
        c.forked_at = time.monotonic()
        self.children[token] = c
        return c

    def fill_pool(self) -> None:
        """Keep `prefork` children waiting, plus one for each queued run that has a free slot,
        plus one spare during a burst: when a run had to wait for a child still preparing
        (~40-140 ms here), requests come faster than one child at a time can be prepared.
        The spare is dropped again POOL_SHRINK_S after the last such wait (see shrink_pool)."""
        if self.stopping or not self.zygote_ready:
            return
        if self.setup_failing():
            return  # children die at set-up: do not fork in a loop (see fail_queue)
        if not self.warm["done"]:
            if not any(c.trusted for c in self.children.values()) and not self.warm.get("started"):
                self.start_warmup()
            return
        waiting = sum(1 for c in self.children.values()
                      if c.state in ("forking", "idle") and c.kill_reason is None
                      and not c.trusted)
        running = self.running_user_runs()
        wanted = self.settings.prefork + min(len(self.queue), self.max_concurrent - running)
        if time.monotonic() < self.spare_until:
            wanted += 1
        if not self.info.preinit_backend:  # TPU: never two processes that may touch the chip
            wanted = min(wanted, 1)
        for _ in range(max(0, wanted - waiting)):
            if self.fork_child() is None:
                return

    def shrink_pool(self, now: float) -> None:
        """After a quiet spell, drop waiting children beyond `prefork` (newest first)."""
        if self.queue or now < self.spare_until:
            return
        if any(c.state == "running" for c in self.children.values()):
            return
        spare = [c for c in self.children.values()
                 if c.state == "idle" and c.run is None and not c.trusted
                 and c.kill_reason is None]
        spare.sort(key=lambda c: c.token)
        for c in spare[self.settings.prefork:]:
            self.drop(c)

    def drop(self, c: Child) -> None:
        """End an idle child: closing its request pipe makes it exit before any user code."""
        c.kill_reason = "shutdown"
        c.request_buffer = b""
        self.close_request_pipe(c)

    def close_request_pipe(self, c: Child) -> None:
        """Stop writing to a child's request pipe; a waiting child exits when it sees EOF."""
        if c.request_w >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(c.request_w)
            self.by_fd.pop(c.request_w, None)
            os.close(c.request_w)
            c.request_w = -1

    def running_user_runs(self) -> int:
        return sum(1 for c in self.children.values() if c.state == "running" and not c.trusted)

    def start_background_warmup(self) -> None:
        """Compile the shipped snippets into the cache, one trusted run at a time, only while
        no user run waits: their first run in the app then loads instead of compiling."""
        if (not self.background or self.queue or self.stopping or not self.zygote_ready
                or self.running_user_runs() >= self.max_concurrent
                or any(c.trusted for c in self.children.values())):
            return
        c = self.fork_child(trusted=True)
        if c is not None:
            c.run = self.background.popleft()

    def start_warmup(self) -> None:
        run = PendingRun(None, warmup.warmup_request(), time.monotonic(),
                         WARMUP_TIMEOUT_S, trusted=True)
        c = self.fork_child(trusted=True)
        if c is not None:
            c.run = run
            self.warm["started"] = time.time()

    def dispatch(self) -> None:
        """Hand queued runs to idle children while slots are free."""
        for c in list(self.children.values()):
            if c.trusted and c.state == "idle" and c.run is not None:
                self.start_run(c, c.run)
        while self.queue:
            if self.running_user_runs() >= self.max_concurrent:
                break
            idle_children = [c for c in self.children.values()
                             if c.state == "idle" and not c.trusted and c.kill_reason is None]
            if not idle_children:
                break
            # A ready child first, else the one that started preparing first.
            idle = min(idle_children, key=lambda c: (c.ready_at is None, c.token))
            self.start_run(idle, self.queue.popleft())
            self.send_positions()
        self.fill_pool()
        if self.warm["done"]:
            self.start_background_warmup()

    def start_run(self, c: Child, run: PendingRun) -> None:
        if c.ready_at is None and not c.trusted:  # this run waits for the child: a burst
            self.spare_until = time.monotonic() + POOL_SHRINK_S
        c.run = run
        c.state = "running"
        c.started_at = time.monotonic()
        # Until the child says "started" (it may still be preparing), allow for that too;
        # the run's own clock starts at "started".
        c.deadline = c.started_at + run.timeout_s + PREPARE_GRACE_S
        payload = protocol.to_json(run.request).encode()
        self.write_request(c, payload, close=True)
        if run.id is not None:
            self.send({"event": "running", "id": run.id})

    def write_request(self, c: Child, data: bytes, close: bool = False) -> None:
        c.request_buffer += data
        self.flush_request(c, close_when_done=close)

    def flush_request(self, c: Child, close_when_done: bool = False) -> None:
        if c.request_w < 0:
            return
        try:
            while c.request_buffer:
                written = os.write(c.request_w, c.request_buffer)
                c.request_buffer = c.request_buffer[written:]
        except BlockingIOError:
            pass
        except OSError:  # the child is gone; its exit tells the rest
            c.request_buffer = b""
        registered = c.request_w in self.by_fd
        if c.request_buffer and not registered:
            self.selector.register(c.request_w, selectors.EVENT_WRITE, ("request", "close"
                                   if close_when_done else "keep"))
            self.by_fd[c.request_w] = c
        elif not c.request_buffer:
            if registered:
                key = self.selector.unregister(c.request_w)
                del self.by_fd[c.request_w]
                close_when_done = close_when_done or key.data[1] == "close"
            if close_when_done:
                os.close(c.request_w)
                c.request_w = -1

    # -- runs from the Runner -----------------------------------------------------------------

    def on_runner_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "run" and self.fatal:
            self.send({"event": "result", "id": message["id"], "result": protocol.to_dict(
                RunResult(status="rejected", message=self.fatal))})
        elif op == "run":
            self.submit(int(message["id"]), protocol.from_dict(RunRequest, message["request"]))
        elif op == "status":
            self.send({"event": "status", "id": message.get("id"), "status": self.status()})
        elif op == "shutdown":
            self.stopping = True

    def submit(self, run_id: int, request: RunRequest) -> None:
        limit = self.settings.max_timeout_s
        timeout = max(MIN_TIMEOUT_S, min(request.timeout_s or self.settings.timeout_s, limit))
        run = PendingRun(run_id, request, time.monotonic(), timeout)
        running = self.running_user_runs()
        if len(self.queue) >= self.settings.queue_size:
            self.send_result(run, RunResult(
                status="busy",
                message=(f"The server is busy: {running} runs are executing and "
                         f"{len(self.queue)} are waiting. Try again in a moment."),
            ))
            return
        if self.setup_failing():
            self.send_result(run, self.setup_failed_result())
            return
        self.queue.append(run)
        self.dispatch()
        if run in self.queue:
            self.send({"event": "queued", "id": run_id, "position": self.queue.index(run) + 1})

    def send_positions(self) -> None:
        for position, run in enumerate(self.queue, start=1):
            if run.id is not None:
                self.send({"event": "queued", "id": run.id, "position": position})

    def send_result(self, run: PendingRun, result: RunResult) -> None:
        if run.id is not None:
            self.runs_total += 1
            self.status_counts[result.status] = self.status_counts.get(result.status, 0) + 1
            self.send({"event": "result", "id": run.id, "result": protocol.to_dict(result)})

    def setup_failing(self) -> bool:
        """Children keep dying before any run: stop forking for a while and answer at once."""
        return (self.setup_failures >= SETUP_FAILURES_BEFORE_GIVING_UP
                and time.monotonic() - self.last_setup_failure < SETUP_RETRY_S)

    def setup_failed_result(self) -> RunResult:
        return RunResult(
            status="crashed",
            message="The sandbox could not start a run on this host: "
            + (self.last_setup_error.strip().splitlines() or ["unknown error"])[-1],
        )

    # -- pipes ----------------------------------------------------------------------------------

    def on_pipe(self, fd: int, kind: str) -> None:
        c = self.by_fd.get(fd)
        if c is None:
            return
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close_fd(c, fd)
            if c.state == "exited" and not c.open_fds:
                self.finish(c)
            return
        if kind == "result":
            c.result_data += data
            if c.ready_at is None and b"\n" in c.result_data:
                c.ready_at = time.monotonic()
                self.prep_times.append(c.ready_at - c.forked_at)
            if (not c.code_started and c.run is not None and c.state == "running"
                    and c.result_data.count(b"\n") >= 2):
                c.code_started = True
                c.started_at = time.monotonic()
                if c.kill_reason is None:
                    c.deadline = c.started_at + c.run.timeout_s
            if len(c.result_data) > self.settings.result_bytes and c.kill_reason is None:
                c.kill_reason = "result"
                self.kill(c)
            return
        self.add_output(c, kind, data)

    def add_output(self, c: Child, stream: str, data: bytes) -> None:
        if c.truncated:
            return
        room = self.settings.output_bytes - c.output_bytes
        cut = len(data) > room
        data = data[: max(room, 0)]
        c.output_bytes += len(data)
        text = c.decoders[stream].decode(data, final=cut)
        if cut:
            text += TRUNCATION_MARK.format(limit=_size(self.settings.output_bytes))
        if text:
            (c.stdout if stream == "stdout" else c.stderr).append(text)
            if c.output and c.output[-1].stream == stream:
                c.output[-1].text += text
            else:
                c.output.append(OutputChunk(stream, text))  # type: ignore[arg-type]
        if cut:
            c.truncated = True
            if c.kill_reason is None:
                c.kill_reason = "output"
            self.kill(c)

    def close_fd(self, c: Child, fd: int) -> None:
        if fd in c.open_fds:
            c.open_fds.discard(fd)
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(fd)
            self.by_fd.pop(fd, None)
            os.close(fd)

    # -- exits, kills, results -------------------------------------------------------------------

    def kill(self, c: Child) -> None:
        """Stop the run and everything it started: its cgroup, its process group, the process."""
        c.cgroup.kill()
        if c.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(c.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(c.pid, signal.SIGKILL)

    def reap(self) -> None:
        """Reap our own children: the zygote, and runs orphaned by a dead zygote (subreaper)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.zygote is not None and pid == self.zygote.pid:
                self.zygote.returncode = os.waitstatus_to_exitcode(status)
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
        self.close_request_pipe(c)
        c.died_before_run = previous != "running" and c.kill_reason is None
        if not c.open_fds:
            self.finish(c)

    def fail_queue(self) -> None:
        while self.queue:
            self.send_result(self.queue.popleft(), self.setup_failed_result())

    def finish(self, c: Child) -> None:
        """Build the result, answer, and clean up after one child."""
        for fd in list(c.open_fds):
            self.close_fd(c, fd)
        if c.died_before_run and c.exit_status is not None:
            code = os.waitstatus_to_exitcode(c.exit_status)
            if code not in (0, -signal.SIGKILL):
                self.setup_failures += 1
                self.last_setup_failure = time.monotonic()
                self.last_setup_error = "".join(c.stderr)[-2000:] or f"exit status {code}"
                if self.setup_failing():
                    self.fail_queue()
        if (c.run is not None and c.run.id is not None and c.kill_reason == "zygote"
                and c.result_data.count(b"\n") < 2):
            # The child died with the zygote before it said "started": no user code ran, so
            # the run goes back to the front of the queue instead of failing.
            self.queue.appendleft(c.run)
            c.run = None
        if c.trusted and c.kill_reason == "zygote" and c.run is not None:
            if c.run.background:
                self.background.appendleft(c.run)  # again, once the zygote is back
            else:
                self.warm = {"done": False}  # died with the zygote: warm up again after restart
            c.run = None
        if c.run is not None and c.state == "exited" and c.run.background:
            self.snippets_warmed += 1
            self.warm["snippets"] = f"{self.snippets_warmed}/{self.snippets_total}"
            if not self.background:
                with contextlib.suppress(OSError):
                    self.snippets_marker.touch()
            c.run = None
        if c.run is not None and c.state == "exited":
            result = self.classify(c)
            if c.trusted:
                self.warm.update(done=True, ok=result.status == "ok", status=result.status,
                                 seconds=round(result.duration_s, 2))
                if result.status != "ok":
                    self.warm["message"] = (result.message + " " + result.stderr)[-500:]
                else:
                    with contextlib.suppress(OSError):
                        self.warm_marker.touch()
                    self.plan_snippet_warmup()
                self.send({"event": "warm", **self.warm})
            else:
                self.setup_failures = 0
            self.send_result(c.run, result)
        elif c.run is not None and c.trusted:
            self.warm.update(done=True, ok=False, status="dropped")
            self.send({"event": "warm", **self.warm})
        self.discard(c)
        self.dispatch()

    def discard(self, c: Child) -> None:
        for fd in list(c.open_fds):
            self.close_fd(c, fd)
        self.close_request_pipe(c)
        if c.run is not None and c.state != "exited" and c.run.id is not None:
            self.send_result(c.run, RunResult(status="crashed",
                                              message="The run's process could not be started."))
            c.run = None
        c.cgroup.remove()
        shutil.rmtree(c.scratch, ignore_errors=True)
        self.children.pop(c.token, None)
        if c.pid is not None:
            self.by_pid.pop(c.pid, None)

    def run_facts(self, c: Child) -> RunFacts:
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

    def classify(self, c: Child) -> RunResult:
        return outcome.classify(self.run_facts(c), self.settings, self.info.platform)

    # -- clocks ---------------------------------------------------------------------------------

    def next_timeout(self) -> float | None:
        now = time.monotonic()
        times: list[float] = []
        for c in self.children.values():
            if c.state == "running" and c.deadline is not None and c.kill_reason is None:
                times.append(c.deadline)
            if c.state == "exited":
                times.append(c.exited_at + DRAIN_S)
        if self.queue:
            times.append(self.queue[0].enqueued_at + self.settings.queue_wait_s)
        if self.zygote_restart_at is not None:
            times.append(self.zygote_restart_at)
        if self.zygote is not None and not self.zygote_ready:
            times.append(self.zygote_started_at + ZYGOTE_START_S)
        waiting = sum(1 for c in self.children.values()
                      if c.state == "idle" and c.run is None and c.kill_reason is None)
        busy = self.queue or any(c.state == "running" for c in self.children.values())
        if waiting > self.settings.prefork and not busy:  # else the run's end wakes us
            times.append(max(self.spare_until, now))
        if not times:
            return None
        return max(0.0, min(times) - now)

    def check_clocks(self) -> None:
        now = time.monotonic()
        for c in list(self.children.values()):
            if (c.state == "running" and c.kill_reason is None and c.deadline is not None
                    and now >= c.deadline):
                c.kill_reason = "timeout"
                self.kill(c)
            elif c.state == "exited" and now >= c.exited_at + DRAIN_S:
                self.finish(c)  # an escaped process still holds a pipe: stop waiting
        self.shrink_pool(now)
        if self.zygote_restart_at is not None and now >= self.zygote_restart_at:
            self.zygote_restart_at = None
            self.start_zygote()
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
            data = os.read(0, READ_CHUNK)
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
            self.start_zygote()
            self.send({"event": "hello", **self.status()})
            if self.warm["done"]:
                self.send({"event": "warm", **self.warm})
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
                    if self.zygote_sock is not None and key.fileobj is self.zygote_sock:
                        self.on_zygote_message()
                elif kind == "pipe":
                    self.on_pipe(key.fd, detail)
                elif kind == "request":
                    c = self.by_fd.get(key.fd)
                    if c is not None:
                        self.flush_request(c)
                if self.stopping:
                    break
            self.check_clocks()
            if self.zygote_ready is False and self.zygote is not None and (
                    time.monotonic() - self.zygote_started_at > ZYGOTE_START_S):
                self.kill_zygote()  # stuck in its imports; reap() restarts it
        self.shutdown()

    def shutdown(self) -> None:
        self.stopping = True
        for c in list(self.children.values()):
            if c.kill_reason is None:
                c.kill_reason = "shutdown"
            self.kill(c)
        for run in list(self.queue):
            self.send_result(run, RunResult(status="crashed", message="The runner shut down."))
        self.queue.clear()
        for c in list(self.children.values()):
            if c.run is not None and c.run.id is not None:
                self.send_result(c.run, RunResult(status="crashed",
                                                  message="The runner shut down."))
            c.run = None
            c.state = "exited"
            self.discard(c)
        if self.zygote is not None:
            with contextlib.suppress(ProcessLookupError):
                self.zygote.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
                self.zygote.wait(5)
        self.reap_all()
        shutil.rmtree(self.run_root, ignore_errors=True)

    def reap_all(self) -> None:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(0.01)


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
            shutil.rmtree(path, ignore_errors=True)


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
