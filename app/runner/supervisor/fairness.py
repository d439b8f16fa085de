"""Which queued run starts next: sessions take turns.

Start-time fair queueing with one unit of cost per run: a run is tagged when it is queued with
max(the tag of the run started last, its session's previous tag + 1); the queued run with the
smallest tag starts next, arrival order among equals. So one person who queues ten runs (several
tabs, a Run-all) does not make a room of others wait behind all ten, and a newcomer cannot jump
ahead of runs that were already due (no starvation: tags never go below the last started one).
Runs without a session id (CLI, benchmarks) take the current tag: first come, first served.
Never imports streamlit; used only by the supervisor's single thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Tagged(Protocol):
    fair_tag: float


T = TypeVar("T", bound=Tagged)


class FairShare:
    """The tags: call tag() when a run is queued, started() when it leaves the queue to run,
    withdrawn() when it leaves without running."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        self.virtual = 0.0  # the tag of the run started last
        self._next: dict[str, float] = {}  # per session: the tag its next run gets at least
        self._max_sessions = max_sessions

    def tag(self, session_id: str | None) -> float:
        if not session_id:
            return self.virtual
        tag = max(self.virtual, self._next.get(session_id, 0.0))
        self._next[session_id] = tag + 1.0
        return tag

    def started(self, tag: float) -> None:
        self.virtual = max(self.virtual, tag)
        # A session whose next tag is not ahead of the clock is like a new one: forget it, so
        # the table holds only sessions with runs still due.
        for session_id in [s for s, t in self._next.items() if t <= self.virtual]:
            del self._next[session_id]
        # Sessions one step ahead stay (their run that started still counts) until the table is
        # full: then the oldest of them go, each losing at most one turn of priority.
        if len(self._next) > self._max_sessions:
            ahead_by_one = [s for s, t in self._next.items() if t <= self.virtual + 1.0]
            for session_id in ahead_by_one[: len(self._next) - self._max_sessions]:
                del self._next[session_id]

    def withdrawn(self, session_id: str | None, tag: float) -> None:
        """A queued run left without starting (stopped): if it was its session's latest, the
        session gets that turn back, so stopping and re-running does not push it behind."""
        if session_id and self._next.get(session_id) == tag + 1.0:
            self._next[session_id] = tag

    def sessions(self) -> int:
        return len(self._next)


def fair_order(queue: Iterable[T]) -> list[T]:
    """The queued runs in the order they will start (sorted() is stable: arrival among equals)."""
    return sorted(queue, key=lambda run: run.fair_tag)
