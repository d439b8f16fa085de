"""What the zygote tells the supervisor: hello, forked, exited; and its death.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.runner.supervisor import pool
from app.runner.supervisor.zygote_link import ZYGOTE_FAILING, ZygoteLink
from app.runner.supervisor.zygotes import split_kind

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor

log = logging.getLogger("playground.supervisor")


def zygote_died(self: Supervisor, link: ZygoteLink | None = None) -> None:
    # Children still forking never got a pid; the running ones die with the zygote
    # (parent-death signal) and are reaped here as their subreaper.
    link = link or self.zygote
    for c in list(self.children.values()):
        if split_kind(c.kind, self.zygotes.default_id)[1] != link.runtime_id:
            continue  # another runtime's child: its zygote lives on
        if c.state == "forking":
            self.discard(c)
        elif c.state in ("starting", "idle", "running"):
            c.kill_reason = c.kill_reason or "zygote"
            pool.kill(c)
    if self.stopping:
        return
    log.warning("zygote died; restarting it", extra={"fields": {
        "event": "zygote_crash", "restarts": link.restarts}})
    if not link.restart():
        log.error("zygote keeps failing: runs are refused", extra={"fields": {
            "event": "zygote_failing"}})
        # Broken environment (imports fail): do not spin; answer the waiting runs.
        self.setup.give_up(ZYGOTE_FAILING + " (see the server log)")
        self.fail_queue()


def on_zygote_message(self: Supervisor, link: ZygoteLink | None = None) -> None:
    link = link or self.zygote
    message = link.receive()
    if message is None:  # it died or is dying; reap() sees its exit and restarts it
        link.close()
        link.kill()
        self.reap()
        return
    if "hello" in message:
        if self.setup.last_error.startswith(ZYGOTE_FAILING):
            self.setup.failures = 0  # it starts again: so may the children
        link.hello(message)
        self.fill_pool()
    elif "forked" in message:
        c = self.children.get(int(message["forked"]))
        if c is None:
            return
        c.pid = int(message["pid"])
        self.by_pid[c.pid] = c
        c.cgroup.attach(c.pid)
        c.state = "idle"
        self.pipes.write_request(c, b"go\n")
        self.dispatch()
    elif "exited" in message:
        self.on_exit(int(message["exited"]), int(message["status"]),
                     int(message.get("maxrss_kb", 0)))
