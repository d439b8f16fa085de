"""Per-session rate limiting (app/runner/api/admission.py), on a clock the test moves by hand."""

from __future__ import annotations

import re
import threading

import pytest

from app.config import load
from app.protocol import RunRequest
from app.runner.api.admission import Admission, RateLimiter, admission_from_settings, rejection


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_admits_up_to_the_limit_then_reports_exact_wait() -> None:
    clock = ManualClock()
    limiter = RateLimiter(3, window_s=60.0, clock=clock)
    for step in range(3):
        assert limiter.try_acquire("a") == 0.0
        clock.now += 10.0 * (step < 2)  # starts at t=1000, 1010, 1020
    assert limiter.try_acquire("a") == pytest.approx(40.0)  # the t=1000 start ages out at 1060
    clock.now = 1059.9
    assert limiter.try_acquire("a") == pytest.approx(0.1)
    clock.now = 1060.0
    assert limiter.try_acquire("a") == 0.0  # one slot freed, now used
    assert limiter.try_acquire("a") == pytest.approx(10.0)  # next frees at 1010 + 60


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, window_s=60.0, clock=clock)
    assert limiter.try_acquire("a") == 0.0
    for _ in range(5):
        clock.now += 5.0
        limiter.try_acquire("a")
    clock.now = 1060.0
    assert limiter.try_acquire("a") == 0.0


def test_sessions_are_limited_independently() -> None:
    clock = ManualClock()
    limiter = RateLimiter(2, clock=clock)
    assert [limiter.try_acquire("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.try_acquire("a") > 0
    assert limiter.try_acquire("b") == 0.0


def test_idle_sessions_are_forgotten_when_the_table_is_full() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, clock=clock, max_sessions=3)
    for sid in "abc":
        limiter.try_acquire(sid)
    clock.now += 61.0
    limiter.try_acquire("d")
    assert limiter.sessions() == 1


def test_table_stays_bounded_when_every_session_is_active() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, clock=clock, max_sessions=4)
    for i in range(50):
        limiter.try_acquire(f"s{i}")
        clock.now += 0.01
    assert limiter.sessions() <= 4


def test_concurrent_callers_never_exceed_the_limit() -> None:
    limiter = RateLimiter(50)  # the real clock: 160 attempts finish far inside 60 s
    admitted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            wait = limiter.try_acquire("shared")
            with lock:
                admitted.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for w in admitted if w == 0.0) == 50
    assert len(admitted) == 160


def test_rejection_message_gives_whole_seconds_to_wait() -> None:
    result = rejection(12.2, 30)
    assert result.status == "rejected"
    assert "30 runs per minute" in result.message
    assert re.search(r"Try again in 13 s\.", result.message)
    assert "1 s" in rejection(0.01, 5).message  # never "0 s"


def test_admission_limits_only_requests_with_a_session() -> None:
    clock = ManualClock()
    gate = Admission(RateLimiter(1, clock=clock))
    assert gate.admit(RunRequest(code="1", session_id="s")) is None
    refused = gate.admit(RunRequest(code="1", session_id="s"))
    assert refused is not None and refused.status == "rejected"
    assert "Try again in 60 s" in refused.message
    assert gate.admit(RunRequest(code="1")) is None  # CLI and benchmarks: no session id
    assert gate.admit(RunRequest(code="1")) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"PLAYGROUND_HOSTED": "1"}, 30),
        ({"PLAYGROUND_HOSTED": "1", "PLAYGROUND_RATE_PER_MINUTE": "5"}, 5),
        ({"PLAYGROUND_RATE_PER_MINUTE": "7"}, 7),
    ],
)
def test_settings_choose_the_limit(env: dict[str, str], expected: int | None) -> None:
    gate = admission_from_settings(load(env))
    if expected is None:
        assert gate.limiter is None
    else:
        assert gate.limiter is not None and gate.limiter.per_window == expected
