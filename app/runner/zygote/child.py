"""One run's process: forked by the zygote, sandboxed, then waits for its request on fd 0.

File descriptors, set up by the supervisor and handed over by the zygote:
    0  request channel (a unix socket): first a line "go" (the supervisor attached our cgroup),
       then the RunRequest as JSON up to end of file, with the descriptor of the session's
       compilation-cache layer alongside when the run has one; replaced by /dev/null once read
    1  stdout pipe, 2  stderr pipe (read and capped by the supervisor as they arrive)
    3  result pipe: first one JSON line {"layers": sandbox layers, "marks": preparation times},
       written when the child is ready for its request (before any user code, so the run cannot
       forge it), then "started" once it has read the request, then the WorkerReport as JSON
    the cache layer, at a fixed number (platform.layer_fd): the session's layer, or a throwaway
       directory in the scratch (XLA's GPU autotuning cache has its path in every cache key)

A preforked child does everything up to the request in advance (fork, sandbox, backend start, a
first small computation), so a run pays only for its own code. Its kind
(app/runner/supervisor/placement.py) is fixed at fork: the environment it starts its backend with
(one GPU, or the CPU). It never returns: _exit (the real one, captured before any user code) in
every path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

import array
import contextlib
import ctypes
import fcntl
import io
import json
import os
import signal
import socket
import sys
import termios
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from app import protocol
from app.config import Settings
from app.runner import platform
from app.worker import cache_layer

REQUEST_FD, RESULT_FD = 0, 3
EXIT_OK = 0
EXIT_SETUP_FAILED = 70  # EX_SOFTWARE: the child failed before user code ran
PR_SET_PDEATHSIG = 1
STARTED_LINE = b"started\n"
DRAIN_WAIT_S = 0.5  # at most this long per switch between stdout and stderr (a loaded host)

# The trusted warm-up: fills the persistent compilation cache with what almost every run needs.
WARMUP_CODE = """
import jax, jax.numpy as jnp
x = jnp.arange(3)
print(x.sum(), x + 1, x * 2.0, jnp.zeros(3), jnp.ones((2, 2)) @ jnp.ones((2, 2)))
f = jax.jit(lambda v: jnp.sin(v) ** 2 + jnp.cos(v) ** 2)
print(f(jnp.linspace(0.0, 1.0, 5)))
g = jax.grad(lambda w: jnp.sum(jnp.tanh(w) ** 2))
print(g(jnp.ones(3)), jax.vmap(lambda a: a * 2)(jnp.arange(4.0)))
print(jax.random.normal(jax.random.key(0), (3,)), jnp.mean(jnp.arange(10.0)))
"""


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Die with the parent (the zygote, or the supervisor for the zygote); best effort."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def read_line(fd: int) -> bytes:
    """One line from fd, a byte at a time so nothing after the newline is consumed."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _read_request(fd: int) -> tuple[bytes, list[int]]:
    """Everything up to end of file on the request socket, and the descriptors that came with it
    (at most one is expected; any more are closed)."""
    sock = socket.socket(fileno=fd)
    parts: list[bytes] = []
    received: list[int] = []
    try:
        while True:
            data, ancillary, _flags, _ = sock.recvmsg(1 << 16, socket.CMSG_SPACE(4 * 4))
            for level, kind, raw in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received += array.array("i", raw[: len(raw) - len(raw) % 4])
            if not data:
                break
            parts.append(data)
    finally:
        sock.detach()
    for extra in received[1:]:
        with contextlib.suppress(OSError):
            os.close(extra)
    return b"".join(parts), received[:1]


def _place_layer(received: int | None, scratch: Path, settings: Settings) -> bool:
    """Put the cache layer at its fixed descriptor: the session's (True), or else, where XLA's
    autotuning cache is set to live there (GPU hosts), a throwaway directory in the scratch
    (False)."""
    target = platform.layer_fd(settings)
    if received is None:
        if platform.LAYER_PATH.format(fd=target) not in os.environ.get("XLA_FLAGS", ""):
            return False
        throwaway = scratch / ".xla-cache-layer"
        with contextlib.suppress(FileExistsError):
            throwaway.mkdir(mode=0o700)
        received = os.open(throwaway, os.O_PATH | os.O_DIRECTORY)
        session = False
    else:
        session = True
    if received != target:
        os.dup2(received, target, inheritable=False)
        os.close(received)
    return session


class _OrderedFile(io.FileIO):
    """stdout and stderr are two pipes, so the supervisor cannot see which write came first.
    When the run switches from one stream to the other, wait (briefly) until the supervisor has
    read what is in the first pipe: then it reads the writes in the order they were made."""

    last_fd: int | None = None

    def write(self, data: ReadableBuffer, /) -> int:
        fd = self.fileno()
        previous = _OrderedFile.last_fd
        if previous is not None and previous != fd:
            _wait_drained(previous)
        _OrderedFile.last_fd = fd
        return super().write(data)


def _wait_drained(fd: int, limit_s: float = DRAIN_WAIT_S) -> None:
    unread = array.array("i", [0])
    deadline = time.monotonic() + limit_s
    try:
        while True:
            fcntl.ioctl(fd, termios.FIONREAD, unread)
            if unread[0] == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.0001)
    except OSError:
        return


def _text_stream(fd: int) -> io.TextIOWrapper:
    raw = _OrderedFile(fd, "w", closefd=False)
    return io.TextIOWrapper(
        raw, encoding="utf-8", errors="backslashreplace", line_buffering=True, write_through=True
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _reset_signals() -> None:
    # The zygote wakes on SIGCHLD through a wakeup fd; the run must get default behaviour.
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _enter_sandbox(settings: Settings, scratch: Path, uid: int | None) -> dict[str, bool]:
    from app.runner.sandbox.entry import enter_child

    return dict(enter_child(settings, scratch, run_uid=uid))


def _apply_kind(kind: dict[str, Any]) -> None:
    """The environment of this child's kind, before its backend starts (CUDA reads
    CUDA_VISIBLE_DEVICES, XLA reads XLA_FLAGS when the backend starts)."""
    env = kind.get("env") or {}
    os.environ.update({str(k): str(v) for k, v in env.items()})
    platforms = kind.get("platforms")
    if platforms:
        import jax

        os.environ["JAX_PLATFORMS"] = str(platforms)
        jax.config.update("jax_platforms", str(platforms))  # JAX read the variable at import


def _start_backend(trusted: bool, marks: dict[str, float], warm: bool) -> None:
    import jax

    if trusted:  # only the warm-up may write the persistent compilation cache
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        shared = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
        if shared:  # whole entries only: runs read the cache while the warm-up fills it
            from app.worker import cache_layer

            cache_layer.install_publishing(shared)
    jax.devices()
    marks["backend"] = time.monotonic()
    if warm and not trusted:
        _warm_op()
        marks["warm"] = time.monotonic()


def _warm_op() -> None:
    """A first tiny computation, off the run's clock: the backend's lazy set-up (the first
    program loaded from the cache, the first transfer; on a GPU the first kernel launch) happens
    here instead of in the run's first line. It leaves nothing the run can see."""
    import jax.numpy as jnp

    with contextlib.suppress(Exception):
        jnp.zeros(3).block_until_ready()  # the warm-up compiled this one into the cache


def _exit(code: int, _real_exit: Callable[[int], NoReturn] = os._exit,
          _kill: Callable[[int, int], None] = os.kill,
          _getpid: Callable[[], int] = os.getpid) -> NoReturn:
    """End this process now, whatever the run did to os, posix or sys: the functions are the
    ones captured when this module was imported (in the zygote, before any user code). A run
    that replaced os._exit with a no-op once went on into the zygote's own code."""
    try:
        _real_exit(code)
    finally:
        _kill(_getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def _end_forked_copy(report: protocol.WorkerReport,
                     exit_now: Callable[[int], NoReturn]) -> NoReturn:
    """The code forked and this copy ran to the end of it: exit as a forked Python process would.

    Only the run's own process reports; copies writing reports into the same pipe would corrupt
    it (a fork bomb's copies did, and the run ended `crashed` instead of with its error).
    """
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    exit_now(1 if report.error else EXIT_OK)


def run_child(
    fds: list[int], scratch: Path, settings: Settings, *, trusted: bool, preinit: bool,
    kind: dict[str, Any] | None = None, uid: int | None = None,
) -> NoReturn:
    """Body of a freshly forked child; fds are [request_r, stdout_w, stderr_w, result_w];
    uid: the run's own (as root), from the supervisor's pool."""
    marks = {"forked": time.monotonic()}
    exit_now = _exit  # a local: what the run rebinds in this module cannot reach it
    try:
        with contextlib.suppress(OSError):
            os.setsid()  # own session and process group, killed as a whole
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(4, os.sysconf("SC_OPEN_MAX"))  # the zygote's socket, anything inherited
        _reset_signals()
        set_parent_death_signal()
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the run's stdin, for the whole process
        sys.stdout = _text_stream(1)
        sys.stderr = _text_stream(2)
        os.chdir(scratch)
        # Wait until the supervisor has put this process in the run's cgroup, so that every
        # process and thread made from here on (pid namespace, XLA threads) is counted there.
        if read_line(REQUEST_FD).strip() != b"go":
            _exit(EXIT_OK)  # the supervisor dropped this child before handing it a run
        marks["go"] = time.monotonic()
        _apply_kind(kind or {})
        if trusted:
            layers: dict[str, bool] = {}
            os.environ.update(HOME=str(scratch), TMPDIR=str(scratch))
        else:
            layers = _enter_sandbox(settings, scratch, uid)
            set_parent_death_signal()  # a uid change clears it: set it again
        marks["sandboxed"] = time.monotonic()
        if preinit:
            _start_backend(trusted, marks, warm=settings.warm_child)
        # "Ready": the layers line, written before any user code, so the run cannot forge it.
        ready = {"layers": layers, "marks": marks}
        _write_all(RESULT_FD, json.dumps(ready).encode() + b"\n")
        payload, received = _read_request(REQUEST_FD)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, REQUEST_FD)
        os.close(null)
        if not payload:
            _exit(EXIT_OK)  # dropped while waiting (pool shrinking or shutdown)
        request = protocol.from_json(protocol.RunRequest, payload.decode())
        session_layer = _place_layer(received[0] if received else None, scratch, settings)
        if not preinit:  # TPU: the run's own first op is the warm-up; nothing to move
            _start_backend(trusted, marks, warm=False)
        if session_layer and not trusted:
            import jax

            cache_layer.install(platform.LAYER_PATH.format(fd=platform.layer_fd(settings)),
                                jax.config.jax_compilation_cache_dir,  # type: ignore[attr-defined]
                                settings.file_size_mb << 20)
        _write_all(RESULT_FD, STARTED_LINE)  # from here on, the run's code may run
    except BaseException:
        with contextlib.suppress(BaseException):
            os.write(2, ("sandbox set-up failed:\n" + traceback.format_exc()).encode())
        _exit(EXIT_SETUP_FAILED)

    from app.worker.execute import execute

    run_pid = os.getpid()
    try:
        report, _namespace = execute(request)
        if os.getpid() != run_pid:
            _end_forked_copy(report, exit_now)
        data = protocol.to_json(report).encode()
    except BaseException:  # the worker itself failed: no report, the supervisor says "crashed"
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode())
        exit_now(EXIT_SETUP_FAILED)
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        _write_all(RESULT_FD, data)
    except OSError:
        exit_now(EXIT_SETUP_FAILED)
    exit_now(EXIT_OK)
