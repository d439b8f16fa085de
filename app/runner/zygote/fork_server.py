"""The zygote: imports JAX once, never starts its backend, and forks one child per run.

Started by the supervisor (`python -m app.runner.zygote FD SETTINGS_JSON PREINIT PLATFORM`) with
a scrubbed environment from platform.py; on GPU hosts it also loads the CUDA libraries once
(gpu_preload.py). It stays single-threaded (OPENBLAS_NUM_THREADS=1), which is what
makes fork safe; it runs no user code itself. It talks to the supervisor over a SOCK_SEQPACKET
unix socket (one JSON message per packet, file descriptors alongside):

    supervisor -> zygote  {"op": "fork", "token": T, "scratch": DIR, "trusted": bool,
                           "kind": {"env": {...}, "platforms": "cpu" | None},
                           "uid": the run's own uid or null} + 4 fds
    zygote -> supervisor  {"hello": pid, "threads": n,        once, after the imports
                           "versions": {"jax", "jaxlib", "python"}, "dropped_flags": [...]}
                          {"forked": T, "pid": pid}
                          {"exited": pid, "status": wait status, "maxrss_kb": n, "cpu_s": s}

The children are its own, so it reaps them (wait4) and reports each wait status: the supervisor
decides a run's status from that, never from what the run printed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from app import protocol
from app.config import Settings
from app.runner import platform as platform_module
from app.runner.zygote import child

# What every run needs, imported once here so the children inherit it for free.
PRELOAD = ("jax", "jax.numpy", "numpy", "app.worker.execute")
OPTIONAL_PRELOAD = ("app.worker.inspection", "app.runner.sandbox.entry")
MAX_MESSAGE = 1 << 16


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    for name in OPTIONAL_PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _drop_refused_flags() -> list[str]:
    """Take out of XLA_FLAGS the optional flags this jaxlib refuses (an unknown flag aborts XLA
    at backend start: every child would die). Checked in a throwaway process, before the imports:
    the zygote itself never starts a backend. Returns the flags dropped."""
    optional = os.environ.pop(platform_module.OPTIONAL_FLAGS_VAR, "").split()
    flags = os.environ.get("XLA_FLAGS", "")
    if not optional or not any(flag in flags.split() for flag in optional):
        return []
    probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"],
                           env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True,
                           timeout=platform_module.DETECT_TIMEOUT_S, check=False)
    if probe.returncode == 0:
        return []
    os.environ["XLA_FLAGS"] = _without(flags, optional)
    return optional


def _without(flags: str, dropped: list[str]) -> str:
    return " ".join(flag for flag in flags.split() if flag not in dropped)


def _versions() -> dict[str, str]:
    """The JAX, jaxlib and Python this zygote's children run (read here: the children's own
    reports are the user's to forge)."""
    import platform

    import jax
    import jaxlib

    return {"jax": str(jax.__version__), "jaxlib": str(getattr(jaxlib, "__version__", "")),
            "python": platform.python_version()}


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _send(sock: socket.socket, message: dict[str, object]) -> None:
    sock.sendall(json.dumps(message).encode())


class Zygote:
    def __init__(self, sock: socket.socket, settings: Settings, preinit: bool,
                 dropped_flags: list[str] | None = None) -> None:
        self.sock = sock
        self.dropped_flags = dropped_flags or []
        self.settings = settings
        self.preinit = preinit
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "control")
        selector.register(self.wake_r, selectors.EVENT_READ, "sigchld")
        while True:
            for key, _ in selector.select():
                if key.data == "sigchld":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                    self._reap()
                elif not self._handle_control():
                    return

    def _handle_control(self) -> bool:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MESSAGE, 8)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False  # the supervisor went away
        message = json.loads(data)
        if message.get("op") == "fork" and len(fds) == 4:
            self._fork(message, fds)
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        return True

    def _fork(self, message: dict[str, object], fds: list[int]) -> None:
        scratch = Path(str(message["scratch"]))
        trusted = bool(message.get("trusted"))
        kind = message.get("kind")
        uid = message.get("uid")
        if self.dropped_flags and isinstance(kind, dict) and isinstance(kind.get("env"), dict):
            env = kind["env"]
            if isinstance(env.get("XLA_FLAGS"), str):
                env["XLA_FLAGS"] = _without(env["XLA_FLAGS"], self.dropped_flags)
        pid = os.fork()
        if pid == 0:
            exit_now = child._exit  # a local, out of the run's reach
            try:
                child.run_child(fds, scratch, self.settings, trusted=trusted,
                                preinit=self.preinit, kind=kind if isinstance(kind, dict) else None,
                                uid=uid if isinstance(uid, int) else None)
            finally:  # never on into the zygote's code, whatever the run did
                exit_now(child.EXIT_SETUP_FAILED)
        _send(self.sock, {"forked": message["token"], "pid": pid})

    def _reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            _send(
                self.sock,
                {
                    "exited": pid,
                    "status": status,
                    "maxrss_kb": usage.ru_maxrss,
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                },
            )


def main(argv: list[str]) -> int:
    fd, settings_json, preinit = int(argv[0]), argv[1], argv[2] == "1"
    platform = argv[3] if len(argv) > 3 else "cpu"
    child.set_parent_death_signal()  # die with the supervisor, whatever killed it
    sock = socket.socket(fileno=fd)
    settings = protocol.from_json(Settings, settings_json)
    dropped = _drop_refused_flags()
    _preload()
    if platform == "gpu" and settings.gpu_preload:
        from app.runner.zygote import gpu_preload

        gpu_preload.preload()
    sandbox = sys.modules.get("app.runner.sandbox.entry")
    if sandbox is not None:  # work every child would repeat, done once here
        with contextlib.suppress(OSError):
            sandbox.prepare(settings)
    _send(sock, {"hello": os.getpid(), "threads": _thread_count(), "versions": _versions(),
                 "dropped_flags": dropped})
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        Zygote(sock, settings, preinit, dropped).serve()
    return 0

