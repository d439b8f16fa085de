"""Another session's run that sleeps until cancelled, on a thread of its own: the run that must go
on while an attack ends (test_layer_attacks.py, test_supervisor_guard.py)."""

from __future__ import annotations

import threading
import uuid

from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner


class Victim:
    """Another session's run that sleeps until cancelled, on a thread of its own."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.request = RunRequest(code="import time\nprint('victim up', flush=True)\n"
                                  "time.sleep(600)\n", session_id=uuid.uuid4().hex,
                                  run_id=uuid.uuid4().hex, timeout_s=600)
        self.up = threading.Event()
        self.result: RunResult | None = None
        self.thread = threading.Thread(target=self._go, daemon=True)
        self.thread.start()
        assert self.up.wait(120), "the victim never started"

    def _go(self) -> None:
        def seen(kind: str, value: object) -> None:
            if kind == "output":
                self.up.set()
        self.result = self.runner.run(self.request, seen)

    def still_running(self) -> bool:
        return self.thread.is_alive() and self.result is None

    def stop(self) -> RunResult:
        run_id = str(self.request.run_id)
        assert self.runner.cancel(run_id, self.request.session_id)
        self.thread.join(60)
        assert self.result is not None
        return self.result
