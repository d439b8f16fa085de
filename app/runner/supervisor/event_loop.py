"""The event loop: one selector over stdin, signals, the zygote, pipes and decoders; shutdown.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import time
from typing import TYPE_CHECKING

from app.protocol import RunResult
from app.runner.supervisor import pool, tree_removal

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

log = logging.getLogger("playground.supervisor")


def serve(self: Supervisor) -> None:
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
        self.zygote.start()
        self.send({"event": "hello", **self.status()})
        if self.warmup.done:
            self.send({"event": "warm", **self.warmup.state})
    while not self.stopping:
        try:
            _loop(self, wake_r)
        except Exception:  # handling one event failed: log it, every other run goes on
            log.exception("supervisor: handling an event failed", extra={"fields": {
                "event": "supervisor_event_error"}})
    self.shutdown()


def _loop(self: Supervisor, wake_r: int) -> None:
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
                link = self.zygotes.owner(key.fileobj)
                if link is not None:
                    self.on_zygote_message(link)
            elif kind == "pipe":
                self.on_pipe(key.fd, detail)
            elif kind == "request":
                c = self.pipes.owner(key.fd)
                if c is not None:
                    self.pipes.flush_request(c)
            elif kind == "decode":
                done = self.decoders.on_readable(key.fd)
                if done is not None:
                    self.on_decoded(*done)
            if self.stopping:
                break
        self.check_clocks()
        for link in self.zygotes.all():
            if link.overdue():
                link.kill()  # stuck in its imports; reap() restarts it


def shutdown(self: Supervisor) -> None:
    self.stopping = True
    for c in list(self.children.values()):
        if c.kill_reason is None:
            c.kill_reason = "shutdown"
        pool.kill(c)
    for run in list(self.queue):
        self.send_result(run, RunResult(status="crashed", message="The runner shut down."))
    self.queue.clear()
    for key in self.decoders.close():
        run, _facts, trusted = self.decoding.pop(key)
        if trusted:
            self.warmup.dropped()
        self.send_result(run, RunResult(status="crashed", message="The runner shut down."))
    for c in list(self.children.values()):
        if c.run is not None and c.run.id is not None:
            self.send_result(c.run, RunResult(status="crashed",
                                              message="The runner shut down."))
        c.run = None
        c.state = "exited"
        self.discard(c)
    for link in self.zygotes.all():
        link.stop()
    self.reap_all()
    self.session_layers.close()
    tree_removal.remove_path(self.run_root)


def reap_all(self: Supervisor) -> None:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)
