"""The run queue in Redis, as typed calls: one method per function of playground.lua.

Both sides use it: the app replica (submit, rate, expire, cancel, abandon, reap, positions,
snapshot) and the worker host (claim, start, emit, finish, heartbeat). The library is loaded on
first use and again whenever Redis answers that it does not know it (a restarted server without
persistence has lost it along with everything else).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from app import protocol
from app.config import Settings
from app.protocol import RunResult
from app.runner.remote import keys
from app.runner.supervisor import client_limits

_SOURCE = (Path(__file__).with_name("playground.lua")).read_text()
# The library names its own version: a Redis holding another one (an older deployment) gets
# this one instead, on first use.
VERSION = hashlib.sha256(_SOURCE.encode()).hexdigest()[:16]
LIBRARY = _SOURCE.replace("@VERSION@", VERSION)
MAX_SESSIONS = 10_000  # as fairness.FairShare: the fair table's bound


@dataclass(frozen=True)
class ClientRules:
    """The per-client rules of app/runner/supervisor/client_limits.py, as a replica's runs carry
    them into the queue: the cap on one limit key's waiting runs (checked in submit), and the
    kept-slots setting (applied in claim, against the cluster's total slots as Redis counts them
    then)."""

    queued_per_client: int = 0  # 0: no cap
    reserved_slots: int = 0  # PLAYGROUND_RESERVED_SLOTS; with hosted, 0 = a quarter
    hosted: bool = False

    @classmethod
    def of(cls, settings: Settings) -> ClientRules:
        return cls(client_limits.queued_per_client(settings), settings.reserved_slots,
                   settings.hosted)


@dataclass(frozen=True)
class Submitted:
    kind: str  # "queued", "busy", "full" (the client's cap on waiting runs) or "exists"
    position: int = 0  # queued: 1 = next
    member: str = ""  # queued: its entry in the queue (for positions)
    epoch: str = ""  # queued: the Redis lifetime it was queued in
    waiting: int = 0  # busy: runs queued
    running: int = 0  # busy: runs on hosts


@dataclass(frozen=True)
class Claimed:
    run_id: str
    request: str  # the RunRequest as JSON, as the replica sent it
    queued_s: float  # time in the Redis queue
    stream: bool = False  # its replica wants the output as it comes


@dataclass(frozen=True)
class HostEntry:
    host: str
    status: dict[str, Any]
    ttl_left_ms: int
    runs: int  # runs Redis counts on it (claimed or running)


@dataclass(frozen=True)
class Snapshot:
    now_s: float  # Redis's clock
    queued: int
    live_hosts: int
    hosts: list[HostEntry]


def result_json(result: RunResult) -> str:
    return json.dumps(protocol.to_dict(result))


class RedisQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._checked = False  # the loaded library is ours (its version), checked once

    # -- plumbing ------------------------------------------------------------------------------

    def load(self) -> None:
        self.redis.function_load(LIBRARY, replace=True)

    def _ensure(self) -> None:
        try:
            loaded = self.redis.fcall("pg_version", 0)
        except redis.ResponseError:  # none loaded yet
            loaded = None
        if loaded != VERSION:
            self.load()
        self._checked = True

    def _call(self, name: str, *args: Any) -> Any:
        if not self._checked:
            self._ensure()
        try:
            return self.redis.fcall(name, 0, *args)
        except redis.ResponseError as exc:
            if "function not found" not in str(exc).lower():
                raise
        self.load()
        return self.redis.fcall(name, 0, *args)

    def pipeline_calls(self, calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Several calls in one round trip (the host's outbox); loads the library if missing."""
        for attempt in range(2):
            pipe = self.redis.pipeline(transaction=False)
            for name, args in calls:
                pipe.fcall(name, 0, *args)
            replies = pipe.execute(raise_on_error=False)
            missing = any(isinstance(r, redis.ResponseError)
                          and "function not found" in str(r).lower() for r in replies)
            if not missing or attempt:
                break
            self.load()
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    # -- the replica's side --------------------------------------------------------------------

    def submit(self, run_id: str, owner: str, session: str, key: str, request_json: str,
               queue_size: int, fair: bool, ttl_s: float, stream: bool = False,
               rules: ClientRules = ClientRules(), jax: str = "") -> Submitted:
        """session: who may stop the run; key: whom it counts against (fair turns, the
        per-client rules; "" = nobody); stream: its output is wanted as it comes; jax: the JAX
        runtime id it needs, only hosts that name it in their claims get it ("" = any host, on
        its default)."""
        reply = self._call("pg_submit", run_id, owner, session, key, request_json,
                           queue_size, "1" if fair else "0", int(ttl_s * 1000),
                           "1" if stream else "0", rules.queued_per_client,
                           rules.reserved_slots, "1" if rules.hosted else "0", jax)
        if reply[0] == "queued":
            return Submitted("queued", position=int(reply[1]), member=str(reply[2]),
                             epoch=str(reply[3]))
        if reply[0] == "busy":
            return Submitted("busy", waiting=int(reply[1]), running=int(reply[2]))
        return Submitted(str(reply[0]))  # "full" or "exists"

    def rate(self, key: str, per_window: int, window_s: float) -> float:
        """0.0 when one more run is admitted now (and counted), else the seconds to wait."""
        wait_us = int(self._call("pg_rate", key, per_window, int(window_s * 1_000_000)))
        return wait_us / 1_000_000

    def expire(self, run_id: str, result: RunResult) -> bool:
        return bool(self._call("pg_expire", run_id, result_json(result)))

    def cancel(self, run_id: str, session: str, result: RunResult) -> bool:
        return bool(self._call("pg_cancel", run_id, session, result_json(result)))

    def abandon(self, run_id: str, result: RunResult) -> bool:
        return bool(self._call("pg_abandon", run_id, result_json(result)))

    def reap(self, crashed: RunResult, cancelled: RunResult) -> tuple[int, int, int, str]:
        """(runs queued again, runs ended crashed, live hosts, Redis's epoch)."""
        requeued, crashed_count, live, epoch = self._call(
            "pg_reap", result_json(crashed), result_json(cancelled))
        return int(requeued), int(crashed_count), int(live), str(epoch)

    def positions(self, members: list[str]) -> list[int | None]:
        """1-based places in the fair order; None for runs no longer queued."""
        pipe = self.redis.pipeline(transaction=False)
        for member in members:
            pipe.zrank(keys.QUEUE, member)
        return [None if rank is None else int(rank) + 1 for rank in pipe.execute()]

    def snapshot(self) -> Snapshot:
        reply = self._call("pg_snapshot")
        hosts = []
        for i in range(3, len(reply) - 3, 4):
            try:
                status = json.loads(reply[i + 1])
            except ValueError:
                status = {}
            hosts.append(HostEntry(str(reply[i]), status if isinstance(status, dict) else {},
                                   int(reply[i + 2]), int(reply[i + 3])))
        return Snapshot(int(reply[0]) / 1_000_000, int(reply[1]), int(reply[2]), hosts)

    # -- the host's side -----------------------------------------------------------------------

    def claim(self, host: str, lease: str, runtimes: Sequence[str] = ()) -> Claimed | None:
        """The next run in fair order that this host may start and can run: one needing no
        particular JAX, or one of `runtimes` (the ids the host has)."""
        reply = self._call("pg_claim", host, lease, MAX_SESSIONS, *runtimes)
        if not reply:
            return None
        return Claimed(str(reply[0]), str(reply[1]), int(reply[2]) / 1_000_000,
                       stream=str(reply[3]) == "1")

    def start(self, run_id: str, lease: str, cancelled: RunResult) -> bool:
        return bool(self._call("pg_start", run_id, lease, result_json(cancelled)))

    @staticmethod
    def emit_call(run_id: str, lease: str, events: list[str]) -> tuple[str, tuple[Any, ...]]:
        return "pg_emit", (run_id, lease, *events)

    @staticmethod
    def finish_call(run_id: str, lease: str, result: RunResult) -> tuple[str, tuple[Any, ...]]:
        return "pg_finish", (run_id, lease, result_json(result))

    def heartbeat(self, host: str, status: dict[str, Any], ttl_s: float, stale_s: float,
                  lost: RunResult, leases: dict[str, str]) -> list[str]:
        """Renew the host's liveness and its slots (status["slots"]: what claims count the
        cluster's free slots by); returns the runs it holds whose lease is gone."""
        pairs = [item for run_id, lease in leases.items() for item in (run_id, lease)]
        slots = int(status.get("slots") or 0)
        reply = self._call("pg_heartbeat", host, slots, json.dumps(status), int(ttl_s * 1000),
                           int(stale_s * 1_000_000), result_json(lost), *pairs)
        return [str(run_id) for run_id in reply or []]
