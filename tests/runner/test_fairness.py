"""Sessions take turns in the queue (app/runner/fairness.py); end to end in test_limits."""

from __future__ import annotations

from dataclasses import dataclass

from app.runner.fairness import FairShare, fair_order


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
