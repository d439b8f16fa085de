"""The supervisor's side of the zygote (app/runner/zygote/fork_server.py): its process, its
socket, restarts.

The zygote pays the imports once and forks the run processes; the supervisor talks to it over a
SOCK_SEQPACKET socket, one JSON message a packet, with a new child's pipe ends passed along.
A zygote that keeps dying right after it starts means a broken environment (imports fail): it is
restarted only after a pause, so the supervisor does not spin and can answer the waiting runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.config import Settings
from app.runner import platform as platform_module

ZYGOTE_START_S = 120.0
ZYGOTE_QUICK_DEATH_S = 10.0  # a zygote that dies this soon after start, several times in a row,
ZYGOTE_BACKOFF_S = 5.0  # ... is restarted only after this pause
ZYGOTE_FAILING = "the zygote process keeps exiting at start"


class ZygoteLink:
    """The zygote as the supervisor sees it; its exit is reaped by the supervisor (reaped)."""

    def __init__(self, settings: Settings, info: platform_module.PlatformInfo,
                 selector: selectors.BaseSelector, interpreter: str | None = None,
                 runtime_id: str = "") -> None:
        self.settings = settings
        self.info = info  # the runtime's own (its cache dir, its flags)
        self.selector = selector
        self.interpreter = interpreter or sys.executable
        self.runtime_id = runtime_id
        self.versions: dict[str, str] = {}  # what its hello said: jax, jaxlib, python
        self.process: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.ready = False  # it said hello: it can fork
        self.threads = 0
        self.restarts = 0
        self.started_at = 0.0
        self.quick_deaths = 0
        self.restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def status(self) -> dict[str, Any]:
        return {"zygote_pid": self.pid, "zygote_ready": self.ready,
                "zygote_threads": self.threads, "zygote_restarts": self.restarts,
                "versions": dict(self.versions)}

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        settings_json = json.dumps(dataclasses.asdict(self.settings))
        preinit = "1" if self.info.preinit_backend else "0"
        self.process = subprocess.Popen(
            [self.interpreter, "-m", "app.runner.zygote", str(theirs.fileno()), settings_json,
             preinit, self.info.platform],
            env=self.info.env,
            cwd=str(platform_module.REPO_ROOT),
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.sock = ours
        self.ready = False
        self.started_at = time.monotonic()
        self.selector.register(ours, selectors.EVENT_READ, ("zygote", self.runtime_id))

    def kill(self) -> None:
        # Not Popen.kill: it polls first, which would reap the zygote behind reap()'s back.
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop listening: it died or is dying."""
        if self.sock is not None:
            self.selector.unregister(self.sock)
            self.sock.close()
            self.sock = None
        self.ready = False

    def owns(self, fileobj: Any) -> bool:
        return self.sock is not None and fileobj is self.sock

    def reaped(self, pid: int, status: int) -> bool:
        """Whether a reaped pid was the zygote; if so it is gone (restart decides what next)."""
        if self.process is None or pid != self.process.pid:
            return False
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.close()
        self.process = None
        return True

    def restart(self) -> bool:
        """Start it again after it died, unless it keeps dying at start: then False, and it is
        started again only after ZYGOTE_BACKOFF_S (see check)."""
        self.restarts += 1
        if time.monotonic() - self.started_at < ZYGOTE_QUICK_DEATH_S:
            self.quick_deaths += 1
        else:
            self.quick_deaths = 0
        if self.quick_deaths >= 3:
            self.restart_at = time.monotonic() + ZYGOTE_BACKOFF_S
            return False
        self.start()
        return True

    def receive(self) -> dict[str, Any] | None:
        """Its next message; None: the socket closed (it died or is dying)."""
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 16)
        except OSError:
            data = b""
        return json.loads(data) if data else None

    def hello(self, message: dict[str, Any]) -> None:
        self.ready = True
        self.threads = int(message.get("threads", 0))
        versions = message.get("versions")
        if isinstance(versions, dict):
            self.versions = {k: str(v)[:40] for k, v in versions.items()
                             if k in ("jax", "jaxlib", "python")}

    def send_fork(self, token: int, scratch: Path, trusted: bool, fds: Sequence[int],
                  kind: dict[str, Any] | None = None, uid: int | None = None) -> bool:
        """Ask for a child that gets these pipe ends (closed here, sent or not); kind: the
        environment it starts its backend with; uid: the run's own (as root; None: the
        sandbox's default). False: the zygote is gone."""
        assert self.sock is not None
        message = json.dumps(
            {"op": "fork", "token": token, "scratch": str(scratch), "trusted": trusted,
             "kind": kind or {}, "uid": uid}
        ).encode()
        try:
            socket.send_fds(self.sock, [message], list(fds))
            sent = True
        except OSError:
            sent = False
        for fd in fds:
            os.close(fd)
        return sent

    def wake_times(self) -> list[float]:
        """When the supervisor must look at the zygote again: a restart, a start overdue."""
        times = [] if self.restart_at is None else [self.restart_at]
        if self.process is not None and not self.ready:
            times.append(self.started_at + ZYGOTE_START_S)
        return times

    def check(self, now: float) -> None:
        """Restart after a back-off."""
        if self.restart_at is not None and now >= self.restart_at:
            self.restart_at = None
            self.start()

    def overdue(self) -> bool:
        """Still not ready long after its start: stuck in its imports."""
        return (self.ready is False and self.process is not None
                and time.monotonic() - self.started_at > ZYGOTE_START_S)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
                self.process.wait(5)
