"""Fair under load, with the real Runner and sandbox: the per-session rate limit refuses with the
wait, a full queue answers "busy" while the slot holder still runs, queue positions are reported.

Order of events is asserted, never durations: "busy came back while the first run was still
running" is observed by the first run's thread still being alive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.config import load
from app.protocol import RunRequest, RunResult
from app.runner import Runner

HOLD = "import time\ntime.sleep(20)\n"  # holds the only slot until its timeout ends it
QUICK = "print('hi')\n"


@pytest.fixture
def small_runner(tmp_path) -> Iterator[Runner]:
    config = replace(load({}), max_concurrent=1, queue_size=1, prefork=1, rate_per_minute=3,
                     state_dir=str(tmp_path / "state"))
    runner = Runner(config)
    runner.start()
    yield runner
    runner.close()


class Background:
    """One run in a thread, with the updates it received."""

    def __init__(self, runner: Runner, request: RunRequest) -> None:
        self.updates: list[tuple[str, int | None]] = []
        self.running = threading.Event()
        self.queued = threading.Event()
        self.result: RunResult | None = None
        self.thread = threading.Thread(target=self._run, args=(runner, request), daemon=True)
        self.thread.start()

    def _run(self, runner: Runner, request: RunRequest) -> None:
        self.result = runner.run(request, self._update)

    def _update(self, event: str, position: int | None) -> None:
        if event == "output":  # the streamed output: this test is about the queue
            return
        self.updates.append((event, position))
        (self.running if event == "running" else self.queued).set()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_full_queue_answers_busy_while_the_slot_is_held(small_runner: Runner) -> None:
    holder = Background(small_runner, RunRequest(code=HOLD, timeout_s=15, session_id="a"))
    assert holder.running.wait(60), holder.updates
    waiter = Background(small_runner, RunRequest(code=QUICK, session_id="b"))
    assert waiter.queued.wait(30), waiter.updates
    assert ("queued", 1) in waiter.updates

    refused = small_runner.run(RunRequest(code=QUICK, session_id="c"))
    assert refused.status == "busy"
    assert "busy" in refused.message
    assert holder.thread.is_alive(), "busy must not wait for the running run to end"

    holder.thread.join(60)
    waiter.thread.join(60)
    assert holder.result is not None and holder.result.status == "timeout"
    assert waiter.result is not None and waiter.result.status == "ok"
    assert waiter.updates[-1] == ("running", None)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_session_over_its_rate_is_rejected_with_the_wait_others_are_not(
    small_runner: Runner,
) -> None:
    results = [small_runner.run(RunRequest(code=QUICK, session_id="eager")) for _ in range(3)]
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    refused = small_runner.run(RunRequest(code=QUICK, session_id="eager"))
    assert refused.status == "rejected"
    wait = re.search(r"Try again in (\d+) s", refused.message)
    assert wait is not None and 1 <= int(wait.group(1)) <= 60
    assert small_runner.run(RunRequest(code=QUICK, session_id="patient")).status == "ok"
