"""Protocol I/O with the Runner: JSON lines in on stdin, events out on stdout.

A part of the Supervisor (service.py); its methods use the state set up there.
"""

from __future__ import annotations

import json
import os
from typing import Any

from app import protocol
from app.protocol import RunRequest, RunResult
from app.runner.supervisor import fairness, pipes
from app.runner.supervisor.pool import PendingRun


class RunnerMessages:
    def send(self, message: dict[str, Any]) -> None:
        try:
            self.out.write(json.dumps(message) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self.stopping = True

    def on_runner_message(self, message: dict[str, Any]) -> None:
        handler = self.handlers.get(str(message.get("op")))
        if handler is not None:
            handler(message)

    def on_run(self, message: dict[str, Any]) -> None:
        if self.fatal:
            self.send({"event": "result", "id": message["id"], "result": protocol.to_dict(
                RunResult(status="rejected", message=self.fatal))})
            return
        self.submit(int(message["id"]), protocol.from_dict(RunRequest, message["request"]),
                    stream=bool(message.get("stream")))

    def on_cancel(self, message: dict[str, Any]) -> None:
        found = self.cancel(int(message["run"]))
        self.send({"event": "cancel", "id": message.get("id"), "found": found})

    def on_status(self, message: dict[str, Any]) -> None:
        self.send({"event": "status", "id": message.get("id"), "status": self.status()})

    def on_shutdown(self, _message: dict[str, Any]) -> None:
        self.stopping = True

    def on_stdin(self) -> None:
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

    def send_positions(self) -> None:
        order = fairness.fair_order(self.queue)
        for position, run in enumerate(order, start=1):
            if run.id is not None:
                self.send({"event": "queued", "id": run.id, "position": position})

    def send_result(self, run: PendingRun, result: RunResult) -> None:
        if run.id is not None:
            self.runs_total += 1
            self.status_counts[result.status] = self.status_counts.get(result.status, 0) + 1
            self.send({"event": "result", "id": run.id, "result": protocol.to_dict(result)})
