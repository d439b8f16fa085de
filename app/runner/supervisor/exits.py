"""A child's end: reaping it, building its result (decoding a large report aside), cleaning up.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from typing import TYPE_CHECKING

from app.protocol import RunResult
from app.runner.supervisor import outcome, pool, report_decoder, tree_removal
from app.runner.supervisor.outcome import Report, RunFacts
from app.runner.supervisor.pool import Child, PendingRun

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

log = logging.getLogger("playground.supervisor")


def reap(self: Supervisor) -> None:
    """Reap our own children: the zygote, and runs orphaned by a dead zygote (subreaper)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        link = self.zygotes.reaped(pid, status)
        if link is not None:
            self.zygote_died(link)
        else:
            # Reaped here, not by the zygote: its parent, the zygote, is dead.
            orphan = self.by_pid.get(pid)
            if orphan is not None and orphan.kill_reason is None:
                orphan.kill_reason = "zygote"
            self.on_exit(pid, status, 0)


def on_exit(self: Supervisor, pid: int, status: int, maxrss_kb: int) -> None:
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
    self.pipes.close_request_pipe(c)
    c.died_before_run = previous != "running" and c.kill_reason is None
    if not c.open_fds:
        self.finish(c)


def finish(self: Supervisor, c: Child) -> None:
    """Build the result, answer, and clean up after one child. Whatever that raises (what a run
    left behind is hostile input) ends this run `crashed`, never the supervisor."""
    try:
        _finish(self, c)
    except Exception:
        _abandon(self, c)


def _abandon(self: Supervisor, c: Child) -> None:
    """Handling this child raised: log it, answer its run `crashed`, forget the child (its
    cgroup killed, its layer dropped); every other run goes on."""
    log.exception("supervisor: finishing a run failed; it ends crashed", extra={"fields": {
        "event": "run_finish_error"}})
    run, c.run = c.run, None
    if run is not None and run.id is not None and not run.background:
        self.send_result(run, RunResult(
            status="crashed", message="The runner could not finish this run (see the server "
            "log); other runs were not affected."))
    layer, c.layer = c.layer, None
    with contextlib.suppress(Exception):
        if layer is not None:
            self.session_layers.release(layer, time.monotonic(), filled=True)
    with contextlib.suppress(Exception):
        c.state = "exited"
        self.discard(c)
    self.children.pop(c.token, None)
    if c.pid is not None:
        self.by_pid.pop(c.pid, None)
    with contextlib.suppress(Exception):
        self.dispatch()


def _finish(self: Supervisor, c: Child) -> None:
    self.pipes.close_reads(c)
    self.send_live(c)  # the last of its output, before its result
    filled = self.release_layer(c)
    if c.died_before_run and c.exit_status is not None and self.setup.died_at_setup(c):
        self.fail_queue()
    if (c.run is not None and c.run.id is not None and c.kill_reason == "zygote"
            and c.result_data.count(b"\n") < 2):
        # The child died with the zygote before it said "started": no user code ran, so
        # the run goes back to the front of the queue instead of failing.
        self.queue.appendleft(c.run)
        c.run = None
    if c.trusted and c.kill_reason == "zygote" and c.run is not None:
        self.warmup.lost(c.run)  # died with the zygote: again, once the zygote is back
        c.run = None
    if c.run is not None and c.state == "exited" and c.run.background:
        self.warmup.snippet_done()
        c.run = None
    if c.run is not None and c.state == "exited":
        self.decode_and_conclude(c.run, pool.run_facts(c, cache_full=filled), c.trusted)
        c.run = None
    elif c.run is not None and c.trusted:
        self.warmup.dropped()
        self.send({"event": "warm", **self.warmup.state})
    self.discard(c)
    self.dispatch()


def release_layer(self: Supervisor, c: Child) -> bool:
    """Give back the session cache layer the run held; True: the run filled it."""
    layer, c.layer = c.layer, None
    if layer is None:
        return False
    filled = c.kill_reason == "cache" or (c.code_started and self.session_layers.is_full(layer))
    self.session_layers.release(layer, time.monotonic(), filled)
    return filled


def decode_and_conclude(self: Supervisor, run: PendingRun, facts: RunFacts, trusted: bool) -> None:
    """Answer a finished run; a large report is decoded in another process first (its
    slowness delays only this run), a small one here."""
    data = outcome.report_data(facts)
    decoded: Report | None = None
    if len(data) > report_decoder.INLINE_BYTES:
        key = self.decoders.start(data)
        if key is not None:
            self.decoding[key] = (run, facts, trusted)
            return
        decoded = Report(problem="no process could be started to decode it")
    self.conclude(run, facts, trusted, decoded)


def conclude(self: Supervisor, run: PendingRun, facts: RunFacts, trusted: bool,
             decoded: Report | None) -> None:
    result = outcome.classify(facts, self.settings, self.info.platform, decoded)
    result.runtime = self.zygotes.runtime_info(run.runtime or self.zygotes.default_id)
    if trusted:
        self.warmup.finished(result)
        self.send({"event": "warm", **self.warmup.state})
    else:
        self.setup.failures = 0
    self.send_result(run, result)


def on_decoded(self: Supervisor, key: int, decoded: Report) -> None:
    pending = self.decoding.pop(key, None)
    if pending is not None:
        run, facts, trusted = pending
        self.conclude(run, facts, trusted, decoded)


def discard(self: Supervisor, c: Child) -> None:
    self.release_layer(c)
    self.pipes.close_reads(c)
    self.pipes.close_request_pipe(c)
    if c.run is not None and c.state != "exited" and c.run.id is not None:
        self.send_result(c.run, RunResult(status="crashed",
                                          message="The run's process could not be started."))
        c.run = None
    c.cgroup.remove()  # kills what is left of the run: its uid is free again
    self.uids.release(c.uid)
    c.uid = None
    tree_removal.remove_path(c.scratch)
    self.children.pop(c.token, None)
    if c.pid is not None:
        self.by_pid.pop(c.pid, None)
