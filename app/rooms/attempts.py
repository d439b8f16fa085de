"""One checked submission, as the exercise pages and the load bench make it: run the person's
code and the exercise's check in the sandbox, then record the attempt (exactly once)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from app.busy import CHECK_TIMEOUT_S, at_least
from app.config import Settings
from app.config import settings as configured
from app.exercises import Exercise
from app.protocol import RunRequest, RunResult
from app.rooms.learners import Learner, record_attempt
from app.rooms.store import Store

# Runs that never reached the check: nothing was attempted, so nothing is recorded.
NOT_ATTEMPTED = frozenset({"busy", "rejected", "cancelled"})


class RunsRequests(Protocol):
    def run(self, request: RunRequest, on_update: Any = None) -> RunResult: ...


def new_attempt_key() -> str:
    return uuid.uuid4().hex


def check_request(exercise: Exercise, code: str, attempt_key: str,
                  session_id: str | None = None, settings: Settings | None = None) -> RunRequest:
    limits = settings or configured()
    request = exercise.request(code, at_least(CHECK_TIMEOUT_S, limits.timeout_s, limits))
    request.run_id = attempt_key  # one fresh id per submission (the pages name runs their own)
    request.session_id = session_id
    return request


def record_result(store: Store, settings: Settings,
                  who: Learner | Callable[[], Learner] | None, exercise: Exercise,
                  code: str, attempt_key: str, result: RunResult,
                  server_busy: bool = False) -> bool:
    """Record a finished check run; False when nothing was recorded (not attempted, a repeat,
    or nobody to record it for). who may be a function that starts a learner: it is called
    only for a run that reached the check, so a refused run leaves no row behind.
    server_busy: the clock stopped it while the server was overloaded (app.busy), which says
    nothing about the code: not an attempt either."""
    if who is None or server_busy or result.status in NOT_ATTEMPTED:
        return False
    if callable(who):
        who = who()
    return record_attempt(store, settings, who, exercise.id, attempt_key, code, result)


def submit_attempt(store: Store, settings: Settings, runner: RunsRequests, who: Learner | None,
                   exercise: Exercise, code: str, attempt_key: str | None = None,
                   on_update: Callable[..., None] | None = None,
                   session_id: str | None = None) -> RunResult:
    """Run the check on code and record the attempt; the run's result either way."""
    key = attempt_key or new_attempt_key()
    result = runner.run(check_request(exercise, code, key, session_id, settings),
                        on_update=on_update)
    record_result(store, settings, who, exercise, code, key, result)
    return result
