"""Sessions take turns in the queue (app/runner/supervisor/fairness.py): the fair order alone,
then fair under load with the real Runner and sandbox: the per-session rate limit refuses with
the wait, a full queue answers "busy" while the slot holder still runs, queue positions are
reported. The end-to-end order of turns is in test_limits.

Order of events is asserted, never durations: "busy came back while the first run was still
running" is observed by the first run's thread still being alive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from app.config import load
from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner
from app.runner.supervisor.fairness import FairShare, fair_order

HOLD = "import time\ntime.sleep(20)\n"  # holds the only slot until its timeout ends it
QUICK = "print('hi')\n"


@dataclass
class Run:
    name: str
    fair_tag: float = 0.0


def queue(share: FairShare, *names: str) -> list[Run]:
    """Queue runs named '<session><n>' ('-' for no session) in this order."""
    runs = []
    for name in names:
        session = None if name.startswith("-") else name.rstrip("0123456789")
        runs.append(Run(name, share.tag(session)))
    return runs


def start_next(share: FairShare, waiting: list[Run]) -> Run:
    run = fair_order(waiting)[0]
    waiting.remove(run)
    share.started(run.fair_tag)
    return run


def test_a_session_with_many_queued_runs_takes_turns_with_the_others() -> None:
    share = FairShare()
    waiting = queue(share, "a1", "a2", "a3", "b1", "c1")
    assert [r.name for r in fair_order(waiting)] == ["a1", "b1", "c1", "a2", "a3"]


def test_a_run_that_already_started_still_counts_for_its_session() -> None:
    share = FairShare()
    waiting = queue(share, "a1")
    assert start_next(share, waiting).name == "a1"  # a1 runs; a queues two more, then b one
    waiting += queue(share, "a2", "a3", "b1")
    assert [start_next(share, waiting).name for _ in range(3)] == ["b1", "a2", "a3"]


def test_a_newcomer_gets_its_turn_but_never_ahead_of_runs_already_due() -> None:
    share = FairShare()
    waiting = queue(share, "a1", "a2", "b1", "b2")
    assert [start_next(share, waiting).name for _ in range(2)] == ["a1", "b1"]
    waiting += queue(share, "c1")  # a and b had a turn, c had none: c goes next
    assert [r.name for r in fair_order(waiting)] == ["c1", "a2", "b2"]
    assert start_next(share, waiting).name == "c1"
    assert start_next(share, waiting).name == "a2"  # the second round has begun
    waiting += queue(share, "d1")  # due in this round, after b2 which was due before it came
    assert [r.name for r in fair_order(waiting)] == ["b2", "d1"]


def test_runs_without_a_session_are_first_come_first_served() -> None:
    share = FairShare()
    waiting = queue(share, "-1", "-2", "-3")
    assert [start_next(share, waiting).name for _ in range(3)] == ["-1", "-2", "-3"]


def test_the_table_forgets_sessions_with_nothing_due_and_stays_bounded() -> None:
    share = FairShare(max_sessions=10)
    waiting = queue(share, *(f"s{n}x1" for n in range(100)))  # 100 sessions, one run each
    while waiting:
        start_next(share, waiting)
    assert share.sessions() <= 10
    waiting = queue(share, "a1", "a2", "a3")
    while waiting:
        start_next(share, waiting)  # a's tags 0, 1, 2 all started: nothing of a is due
    waiting = queue(share, "z1")
    start_next(share, waiting)
    assert share.sessions() <= 10


def test_a_withdrawn_run_gives_its_session_the_turn_back() -> None:
    share = FairShare()
    waiting = queue(share, "a1", "b1", "a2")
    assert start_next(share, waiting).name == "a1"
    stopped = next(r for r in waiting if r.name == "a2")
    waiting.remove(stopped)
    share.withdrawn("a", stopped.fair_tag)  # a stops its queued run and runs it again
    waiting += queue(share, "a3")
    assert [r.name for r in fair_order(waiting)] == ["b1", "a3"]
    assert waiting[-1].fair_tag == stopped.fair_tag


def test_withdrawing_an_older_run_leaves_the_later_turns_alone() -> None:
    share = FairShare()
    waiting = queue(share, "a1", "a2")
    share.withdrawn("a", waiting[0].fair_tag)  # a2 still holds the next turn after a1's
    assert [r.fair_tag for r in queue(share, "a3")] == [2.0]


# -- with the real Runner --------------------------------------------------------------------------

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
