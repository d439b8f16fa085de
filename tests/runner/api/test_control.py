"""Stop and live output through the real Runner (app/runner/api/interface.py): cancel of a queued
and of a running run, refusal for another session, streamed chunks in order before the result, caps.

One private Runner for the module with a single slot, so that a second run queues.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.interface import RunnerInterface
from app.runner.api.runner import Runner

OUTPUT_BYTES = 16 * 1024
# How fast a stopped run ends is a figure (bench/control.py: cancel -> result 0.02-0.1 s on two
# loaded cores), not an assertion: here, that it ends "cancelled" long before its own timeout.


def _wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = Settings(
        max_concurrent=1,
        queue_size=4,
        max_timeout_s=15.0,
        output_bytes=OUTPUT_BYTES,
        state_dir=str(tmp_path_factory.mktemp("control-state")),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    runner = Runner(config)
    runner.start()
    yield runner
    runner.close()


@dataclass
class Background:
    """One run on its own thread, with what on_update reported and when."""

    request: RunRequest
    updates: list[tuple[float, str, Any]] = field(default_factory=list)
    result: RunResult | None = None
    ended_at: float = 0.0
    thread: threading.Thread | None = None

    def start(self, runner: RunnerInterface) -> Background:
        def go() -> None:
            self.result = runner.run(self.request, self.on_update)
            self.ended_at = time.monotonic()

        self.thread = threading.Thread(target=go, daemon=True)
        self.thread.start()
        return self

    def on_update(self, kind: str, value: Any) -> None:
        self.updates.append((time.monotonic(), kind, value))

    def saw(self, kind: str, value: Any = None) -> bool:
        return any(k == kind and (value is None or v == value) for _, k, v in self.updates)

    def chunks(self) -> list[OutputChunk]:
        return [v for _, k, v in self.updates if k == "output"]

    def printed(self) -> str:
        return "".join(chunk.text for chunk in self.chunks())

    def wait(self, timeout: float = 30.0) -> RunResult:
        assert self.thread is not None
        self.thread.join(timeout)
        assert self.result is not None, "the run did not end"
        return self.result


def request(code: str, session: str = "owner", **kwargs: Any) -> RunRequest:
    return RunRequest(code=code, session_id=session, run_id=uuid.uuid4().hex, timeout_s=10,
                      **kwargs)


LOOP = "print('looping', flush=True)\nwhile True:\n    pass\n"


def test_a_running_while_true_run_ends_cancelled_on_cancel(one_slot: Runner) -> None:
    run = Background(request(LOOP)).start(one_slot)
    assert _wait_for(lambda: "looping" in run.printed()), run.updates
    assert one_slot.cancel(run.request.run_id, "owner") is True  # type: ignore[arg-type]
    result = run.wait()
    assert result.status == "cancelled", result  # not "timeout": the stop ended it
    assert result.stdout == "looping\n"  # what it printed before it was stopped
    assert "stopped" in result.message
    after = one_slot.run(RunRequest(code="print('next')"))  # the slot is free again
    assert after.status == "ok" and after.stdout == "next\n"


def test_a_queued_run_is_taken_out_of_the_queue(one_slot: Runner) -> None:
    first = Background(request("import time\nprint('first', flush=True)\ntime.sleep(1.5)"))
    first.start(one_slot)
    assert _wait_for(lambda: "first" in first.printed())
    second = Background(request("print('second ran')")).start(one_slot)
    assert _wait_for(lambda: second.saw("queued", 1))
    assert one_slot.cancel(second.request.run_id, "owner") is True  # type: ignore[arg-type]
    stopped = second.wait(timeout=2.0)  # at once, not after the first run
    assert stopped.status == "cancelled" and stopped.stdout == ""
    assert "queue" in stopped.message
    assert not second.saw("running")
    assert one_slot.cancel(second.request.run_id, "owner") is False  # no longer in flight
    assert first.wait().status == "ok"
    assert first.result is not None and first.result.stdout == "first\n"


def test_another_sessions_cancel_is_refused(one_slot: Runner) -> None:
    run = Background(request("import time\nprint('mine', flush=True)\ntime.sleep(1)\n"
                             "print('done')", session="owner")).start(one_slot)
    assert _wait_for(lambda: "mine" in run.printed())
    run_id = run.request.run_id
    assert run_id is not None
    assert one_slot.cancel(run_id, "someone-else") is False
    assert one_slot.cancel(uuid.uuid4().hex, "owner") is False  # no such run
    same_id = one_slot.run(RunRequest(code="print(1)", session_id="someone-else", run_id=run_id))
    assert same_id.status == "rejected"  # an id in flight cannot be taken over
    result = run.wait()
    assert result.status == "ok" and result.stdout == "mine\ndone\n"


def test_a_run_id_that_is_not_a_plain_token_is_rejected(one_slot: Runner) -> None:
    for bad in ("", "a" * 65, "../x", "id with spaces"):
        result = one_slot.run(RunRequest(code="print(1)", run_id=bad))
        assert result.status == "rejected", bad
    plain = RunRequest(code="print(1)")
    assert one_slot.run(plain).status == "ok"
    assert plain.run_id is not None and len(plain.run_id) == 32  # given one


def test_streamed_chunks_arrive_in_order_before_the_result(one_slot: Runner) -> None:
    code = ("import sys, time\nfor i in range(4):\n"
            "    print('out', i, flush=True)\n    print('err', i, file=sys.stderr, flush=True)\n"
            "    time.sleep(0.3)\n")
    run = Background(request(code)).start(one_slot)
    result = run.wait()
    assert result.status == "ok", result
    streamed = [(c.stream, line) for c in run.chunks() for line in c.text.splitlines()]
    assert streamed == [pair for i in range(4)
                        for pair in (("stdout", f"out {i}"), ("stderr", f"err {i}"))]
    assert run.printed() == "".join(chunk.text for chunk in result.output)
    first_at = next(t for t, kind, _ in run.updates if kind == "output")
    assert run.ended_at - first_at > 0.6, "the first line came only with the result"
    kinds = [kind for _, kind, _ in run.updates]
    assert kinds.index("running") < kinds.index("output")


def test_a_flood_is_streamed_in_few_batches_and_cut_at_the_cap(one_slot: Runner) -> None:
    run = Background(request("i = 0\nwhile True:\n    print(i)\n    i += 1\n")).start(one_slot)
    result = run.wait()
    assert result.status == "output_limit" and result.truncated
    assert run.printed() == result.stdout  # the cut and its mark, nothing past it
    assert "output truncated" in run.printed()
    assert len(result.stdout.encode()) < OUTPUT_BYTES + 200
    # Thousands of one-line writes; the supervisor batches them (every 0.1 s or 64 KiB).
    assert result.stdout.count("\n") > 1000
    assert len(run.chunks()) < 30, len(run.chunks())


def test_a_run_stopped_before_it_reaches_the_supervisor_never_runs(tmp_path: Path) -> None:
    """The run is still waiting for the supervisor to start: stopping it then ends it with
    "cancelled" once the supervisor is up, and its code never runs."""
    config = Settings(state_dir=str(tmp_path),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    try:
        run = Background(request("print('ran')")).start(runner)
        assert _wait_for(lambda: run.request.run_id in runner._flights, timeout=5.0)
        assert runner.cancel(run.request.run_id, "owner") is True  # type: ignore[arg-type]
        result = run.wait(timeout=60.0)
        assert result.status == "cancelled" and result.stdout == ""
        assert run.updates == []
        assert runner.status()["runs_total"] == 0  # the supervisor never saw it
    finally:
        runner.close()
