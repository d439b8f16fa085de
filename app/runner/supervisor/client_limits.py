"""Per-client limits of the hosted demo, as pure functions: who a run counts against, how many of
its runs may wait, and whether it may take a free slot now.

The policy, in one place (the Redis runner applies the same across replicas and hosts, in
playground.lua's submit and claim; tests/runner/remote/test_queue.py checks it against these):
  - key: in hosted mode the client's address (app/client_address.py), else the browser session;
    the rate limit (admission.py), the fair queue (fairness.py) and the two rules below use it;
  - queue: a client has at most `queued_per_client` runs waiting; one more is refused at once;
  - slots: `reserved` of the slots are kept for clients with no run executing: a client that
    already has one executing starts another only while more than `reserved` slots are free.
    So 18 sessions of busy loops from one address hold at most max_concurrent - reserved slots,
    and a newcomer's run takes a kept slot instead of answering "busy".
Runs without a key (the CLI, the warm-up, benchmarks) are limited by nothing here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from app.config import Settings
from app.protocol import RunRequest, RunResult

HOSTED_QUEUED_PER_CLIENT = 4


class Keyed(Protocol):
    client_key: str | None


R = TypeVar("R", bound=Keyed)


def limit_key(request: RunRequest, hosted: bool) -> str | None:
    """Whom a run counts against. Prefixed, so a session id can never pose as an address."""
    if hosted and request.client_id:
        return "client:" + request.client_id
    return "session:" + request.session_id if request.session_id else None


def queued_per_client(settings: Settings) -> int:
    """PLAYGROUND_QUEUED_PER_CLIENT; 0 = no cap (hosted: 4)."""
    return settings.queued_per_client or (HOSTED_QUEUED_PER_CLIENT if settings.hosted else 0)


def reserved_slots(settings: Settings, max_concurrent: int) -> int:
    """PLAYGROUND_RESERVED_SLOTS; 0 = none (hosted: a quarter of the slots, at least one, when
    there are two or more). Never all of them."""
    wanted = settings.reserved_slots
    if not wanted and settings.hosted and max_concurrent > 1:
        wanted = max(1, max_concurrent // 4)
    return max(0, min(wanted, max_concurrent - 1))


def queue_full(key: str | None, queued: Iterable[Keyed], cap: int) -> bool:
    return bool(key and cap and sum(1 for run in queued if run.client_key == key) >= cap)


def queue_refusal(cap: int) -> RunResult:
    return RunResult(status="rejected", message=(
        f"You already have {cap} runs waiting for a slot; this one was not queued. "
        "Try again when one of them has finished."))


def may_start(key: str | None, running: Counter[str | None], free_slots: int,
              reserved: int) -> bool:
    if free_slots <= 0:
        return False
    if key is None or running[key] == 0:
        return True
    return free_slots > reserved


def next_to_start(ordered: Sequence[R], running: Counter[str | None], free_slots: int,
                  reserved: int) -> R | None:
    """The first run, in queue order, that may take a slot now; None: none may."""
    for run in ordered:
        if may_start(run.client_key, running, free_slots, reserved):
            return run
    return None
