"""Protocol I/O with the Runner: JSON lines in on stdin, events out on stdout.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from app import protocol
from app.protocol import RunRequest, RunResult
from app.runner.supervisor import fairness, pipes
from app.runner.supervisor.pool import PendingRun

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor


def send(self: Supervisor, message: dict[str, Any]) -> None:
    try:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()
    except (BrokenPipeError, ValueError):
        self.stopping = True


def on_runner_message(self: Supervisor, message: dict[str, Any]) -> None:
    handler = self.handlers.get(str(message.get("op")))
    if handler is not None:
        handler(message)


def on_run(self: Supervisor, message: dict[str, Any]) -> None:
    if self.fatal:
        self.send({"event": "result", "id": message["id"], "result": protocol.to_dict(
            RunResult(status="rejected", message=self.fatal))})
        return
    self.submit(int(message["id"]), protocol.from_dict(RunRequest, message["request"]),
                stream=bool(message.get("stream")))


def on_cancel(self: Supervisor, message: dict[str, Any]) -> None:
    found = self.cancel(int(message["run"]))
    self.send({"event": "cancel", "id": message.get("id"), "found": found})


def on_status(self: Supervisor, message: dict[str, Any]) -> None:
    self.send({"event": "status", "id": message.get("id"), "status": self.status()})


def on_shutdown(self: Supervisor, _message: dict[str, Any]) -> None:
    self.stopping = True


def on_stdin(self: Supervisor) -> None:
    try:
        data = os.read(0, pipes.READ_CHUNK)
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


def send_positions(self: Supervisor) -> None:
    order = fairness.fair_order(self.queue)
    for position, run in enumerate(order, start=1):
        if run.id is not None:
            self.send({"event": "queued", "id": run.id, "position": position})


def send_result(self: Supervisor, run: PendingRun, result: RunResult) -> None:
    if run.id is not None:
        self.runs_total += 1
        self.status_counts[result.status] = self.status_counts.get(result.status, 0) + 1
        self.send({"event": "result", "id": run.id, "result": protocol.to_dict(result)})
