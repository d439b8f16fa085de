"""Rate limiting: a sliding window of run starts per session, or per client address when hosted.

The runner asks `admit(request)` before a run takes a queue slot. A session (hosted: a client
address, see client_limits.limit_key) over its limit gets a RunResult with status "rejected"
whose message gives the wait in whole seconds; the global bound on running and queued runs is the
runner's own (it answers "busy"). Requests without a session id or client (the CLI, benchmarks,
the snippet check) are not limited: only the app sets them.

A sliding window (not a token bucket) because it is exactly what the setting says, "at most N runs
per session in any 60 s", and the wait it reports is exact: when the oldest run in the window ages
out. Never imports streamlit; safe to share across threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from app.config import Settings, settings
from app.protocol import RunRequest, RunResult
from app.runner.supervisor import client_limits

WINDOW_S = 60.0


class RateLimiter:
    """At most `per_window` admitted runs per session in any `window_s` seconds."""

    def __init__(
        self,
        per_window: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 10_000,
    ) -> None:
        if per_window < 1:
            raise ValueError("per_window must be >= 1 (use no limiter for unlimited)")
        self.per_window = per_window
        self.window_s = window_s
        self._clock = clock
        self._max_sessions = max_sessions
        self._starts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, session_id: str) -> float:
        """Admit one run now and return 0.0, or admit nothing and return the seconds to wait."""
        now = self._clock()
        with self._lock:
            starts = self._starts.get(session_id)
            if starts is None:
                if len(self._starts) >= self._max_sessions:
                    self._forget_idle(now)
                starts = self._starts[session_id] = deque()
            while starts and starts[0] <= now - self.window_s:
                starts.popleft()
            if len(starts) >= self.per_window:
                return starts[0] + self.window_s - now
            starts.append(now)
            return 0.0

    def sessions(self) -> int:
        """Sessions currently remembered (bounded: idle ones are forgotten)."""
        with self._lock:
            return len(self._starts)

    def _forget_idle(self, now: float) -> None:
        # Called with the lock held; a session whose newest start left the window owes nothing.
        idle = [sid for sid, s in self._starts.items() if not s or s[-1] <= now - self.window_s]
        for sid in idle:
            del self._starts[sid]
        if len(self._starts) >= self._max_sessions:  # all active: drop the oldest-started
            oldest = min(self._starts, key=lambda sid: self._starts[sid][-1])
            del self._starts[oldest]


def rejection(wait_s: float, per_window: int, window_s: float = WINDOW_S,
              who: str = "session") -> RunResult:
    """The result a session (or address) over its limit sees; the wait in whole seconds."""
    wait = max(1, math.ceil(wait_s))
    per = "per minute" if window_s == WINDOW_S else f"per {window_s:g} s"
    return RunResult(
        status="rejected",
        message=(
            f"Rate limit: at most {per_window} runs {per} for each {who}. "
            f"Try again in {wait} s."
        ),
    )


class Admission:
    """The runner's gate: `admit(request)` returns None (go ahead) or the result to answer with."""

    def __init__(self, limiter: RateLimiter | None, hosted: bool = False) -> None:
        self.limiter = limiter
        self.hosted = hosted

    def admit(self, request: RunRequest) -> RunResult | None:
        key = client_limits.limit_key(request, self.hosted)
        if self.limiter is None or key is None:
            return None
        wait = self.limiter.try_acquire(key)
        if wait <= 0:
            return None
        who = "address" if key.startswith("client:") else "session"
        return rejection(wait, self.limiter.per_window, self.limiter.window_s, who)


def admission_from_settings(config: Settings | None = None) -> Admission:
    """Rate limits as configured: PLAYGROUND_RATE_PER_MINUTE, or 30 in hosted mode, else none."""
    config = config or settings()
    rate = config.effective_rate_per_minute
    return Admission(RateLimiter(rate) if rate > 0 else None, hosted=config.hosted)
