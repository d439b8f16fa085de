"""RemoteRunner: the runner interface (app/runner/api/interface.py) for an app replica whose runs go
to worker hosts through Redis (PLAYGROUND_RUNNER_URL=redis://HOST:PORT/DB).

`run` puts the request in the shared fair queue and blocks its own thread on a queue.Queue; one
reader thread per replica blocks on the replica's inbox in Redis (a list every host pushes the
replica's runs' events to) and routes each event to its run. Between two reads (every
POLL_S) the reader also refreshes queue positions, ends runs whose queue wait is over ("busy"),
declares lost the hosts whose heartbeat expired (their runs end "crashed" or are queued again),
ends waiting runs whose JAX version no live host has any more, and gives up on runs nobody
answers for. Every ending goes through one atomic function in Redis, so a run gets exactly one
result even when a replica, a host and a clock race for it. If Redis cannot be reached, the runs
waiting here end "crashed" at once and new runs are answered the same way until it is back;
nothing needs restarting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import redis

from app import decoding, protocol
from app.config import Settings
from app.config import settings as load_settings
from app.observability import runs
from app.protocol import STATUSES, OutputChunk, RunRequest, RunResult
from app.runner.api import precheck
from app.runner.api.admission import rejection
from app.runner.api.interface import OnUpdate
from app.runner.remote import keys, status
from app.runner.remote.connection import connect, redact
from app.runner.remote.queue import ClientRules, HostEntry, RedisQueue
from app.runner.supervisor import client_limits
from app.runner.supervisor.outcome import UNQUEUED_MESSAGE

log = logging.getLogger(__name__)

POLL_S = 0.25  # the reader's beat: positions, queue clocks, lost hosts
ANSWER_MARGIN_S = 60.0  # beyond queue wait + run timeout, as the local Runner
GIVE_UP_GRACE_S = 5.0  # after abandoning a run, how long its result may still take to arrive
BACKOFF_MAX_S = 2.0
RATE_WINDOW_S = 60.0

HOST_LOST = ("The worker host running this run stopped answering (no heartbeat), so the run "
             "was ended; it may have been cut short. Run it again.")
NO_ANSWER = "The worker host did not answer in time, so the run was ended. Run it again."
RESTARTED = ("The run queue (Redis) restarted and lost this run, so it was ended. Runs work "
             "again now: run it again.")


@dataclass
class _Waiter:
    run_id: str
    queue_deadline: float
    final_deadline: float
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    jax: str = ""  # the JAX runtime it needs ("": any host's default)
    member: str = ""  # its entry in the Redis queue, once submitted
    epoch: str = ""  # the Redis lifetime it was submitted in
    position: int | None = None
    running: bool = False
    done: bool = False
    expiring: bool = False
    abandoned_at: float | None = None


class RemoteRunner:
    """Runs RunRequests on worker hosts through Redis; one per app process (see get_runner)."""

    def __init__(self, config: Settings | None = None, url: str | None = None) -> None:
        self.settings = config or load_settings()
        self.url = url or self.settings.runner_url
        self.redis = connect(self.url)
        self.queue = RedisQueue(self.redis)
        # The hosted demo's per-client rules, applied in Redis across replicas and hosts.
        self.rules = ClientRules.of(self.settings)
        self.replica = secrets.token_hex(8)
        self.inbox = keys.inbox(self.replica)
        self.counters: Counter[str] = Counter()
        self.live_hosts: int | None = None
        self.reachable = True
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()
        self._abandon: deque[str] = deque(maxlen=10_000)  # ended here while Redis was away
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name="remote-runner-reader",
                                        daemon=True)
        self._reader.start()

    # -- the interface -------------------------------------------------------------------------

    def run(self, request: RunRequest, on_update: OnUpdate | None = None) -> RunResult:
        """Run one request on some worker host; blocks until its one result. on_update gets
        ("queued", position), ("running", None) and ("output", OutputChunk) in this thread. A
        request without a run_id is given one (uuid4 hex). Every result is counted and logged
        (app.observability.runs)."""
        result = self._run(request, on_update)
        runs.record(request, result, where="replica")
        return result

    def _run(self, request: RunRequest, on_update: OnUpdate | None) -> RunResult:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        if request.run_id is None:  # as the local Runner: the caller can read it back
            request.run_id = uuid.uuid4().hex
        run_id = request.run_id
        s = self.settings
        timeout = min(request.timeout_s or s.timeout_s, s.max_timeout_s)
        now = time.monotonic()
        waiter = _Waiter(run_id, now + s.queue_wait_s,
                         now + s.queue_wait_s + timeout + ANSWER_MARGIN_S, jax=request.jax or "")
        with self._lock:
            if self._closed:
                return RunResult(status="crashed", message="The runner shut down.")
            if run_id in self._waiters:
                return RunResult(status="rejected",
                                 message="A run with this id is already on its way.")
            self._waiters[run_id] = waiter
        try:
            try:
                submitted = self.queue.submit(
                    run_id, self.inbox, self._private(request.session_id),
                    self._limit_key(request), protocol.to_json(request), s.queue_size,
                    s.fair_queue, ttl_s=s.queue_wait_s + s.max_timeout_s + 2 * ANSWER_MARGIN_S,
                    stream=on_update is not None, rules=self.rules, jax=request.jax or "")
            except redis.RedisError as exc:
                return RunResult(status="crashed", message=self._unreachable_message(exc))
            if submitted.kind == "busy":
                return RunResult(status="busy", message=(
                    f"The server is busy: {submitted.running} runs are executing and "
                    f"{submitted.waiting} are waiting. Try again in a moment."))
            if submitted.kind == "full":
                return client_limits.queue_refusal(self.rules.queued_per_client)
            if submitted.kind == "exists":
                return RunResult(status="rejected",
                                 message="A run with this id is already on its way.")
            waiter.position, waiter.epoch = submitted.position, submitted.epoch
            waiter.member = submitted.member
            if on_update is not None:
                on_update("queued", submitted.position)
            return self._wait(waiter, on_update)
        finally:
            with self._lock:
                self._waiters.pop(run_id, None)

    def cancel(self, run_id: str, session_id: str | None = None) -> bool:
        """Stop a queued run (it ends "cancelled" at once) or a running one (its host stops it),
        wherever it is; only the session that started it may, when session_id is given."""
        if not keys.valid_run_id(run_id):
            return False
        stopped = RunResult(status="cancelled", message=UNQUEUED_MESSAGE)
        try:
            return self.queue.cancel(run_id, self._private(session_id), stopped)
        except redis.RedisError:
            return False

    def status(self) -> dict[str, Any]:
        """Every worker host, the shared queue and the limits, for the System page."""
        base: dict[str, Any] = {
            "runner": "remote",
            "replica": self.replica,
            "waiting_here": len(self._waiters),
            "rate_per_minute": self.settings.effective_rate_per_minute,
            **{f"replica_{name}": count for name, count in sorted(self.counters.items())},
        }
        if not self.settings.hosted:
            base["redis"] = redact(self.url)
        try:
            snapshot = self.queue.snapshot()
        except redis.RedisError as exc:
            return {**base, "running_supervisor": False,
                    "error": self._unreachable_message(exc, for_run=False)}
        return {**base, "running_supervisor": bool(snapshot.live_hosts),
                **status.summarize(snapshot, self.settings).as_dict()}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiters = list(self._waiters.values())
        for waiter in waiters:
            self._end_here(waiter, "The runner shut down.")
        self._reader.join(POLL_S * 4 + 1)
        for run_id in list(self._abandon):  # nobody waits for these any more: stop them
            with contextlib.suppress(redis.RedisError):
                self.queue.abandon(run_id, RunResult(status="crashed",
                                                     message="The runner shut down."))
        self.redis.close()

    # -- admission -----------------------------------------------------------------------------

    def _refuse(self, request: RunRequest) -> RunResult | None:
        """Refusals before the queue: those of every runner (api/precheck.py), a JAX version no
        host offers, then the per-session rate (counted in Redis, so it holds across replicas)."""
        refused = precheck.refusal(request, self.settings)
        if refused is not None:
            return refused
        if request.jax:
            refused = self._refuse_version(request.jax)
            if refused is not None:
                return refused
        per_minute = self.settings.effective_rate_per_minute
        key = client_limits.limit_key(request, self.settings.hosted)
        if per_minute <= 0 or key is None:
            return None
        try:
            wait = self.queue.rate(self._limit_key(request), per_minute, RATE_WINDOW_S)
        except redis.RedisError as exc:
            return RunResult(status="crashed", message=self._unreachable_message(exc))
        who = "address" if key.startswith("client:") else "session"
        return rejection(wait, per_minute, RATE_WINDOW_S, who) if wait > 0 else None

    def _refuse_version(self, version: str) -> RunResult | None:
        """A JAX version no connected worker host announces ends here, naming the ones they
        have (with no host connected the run waits as any run does)."""
        try:
            hosts = self.queue.snapshot().hosts
        except redis.RedisError:
            return None  # the submit reports the unreachable queue
        return _version_refusal(version, hosts)

    @staticmethod
    def _private(value: str | None) -> str:
        return keys.private_key(value) if value else ""

    def _limit_key(self, request: RunRequest) -> str:
        """Whom a run counts against, for its fair turns and the rate limit, as the local
        runner keys them: the session, or in hosted mode the client address
        (app/runner/supervisor/client_limits.py)."""
        return self._private(client_limits.limit_key(request, self.settings.hosted))

    # -- waiting -------------------------------------------------------------------------------

    def _wait(self, waiter: _Waiter, on_update: OnUpdate | None) -> RunResult:
        while True:
            # The reader always ends a run (result, or "gone"); the timeout guards the reader.
            patience = waiter.final_deadline + 3 * GIVE_UP_GRACE_S - time.monotonic()
            try:
                message = waiter.events.get(timeout=max(1.0, patience))
            except queue.Empty:
                return RunResult(status="crashed", message=NO_ANSWER)
            event = message.get("event")
            if event == "result":
                return _parse_result(message.get("result"))
            if event == "gone":
                return RunResult(status="crashed", message=str(message.get("message", "")))
            if on_update is None:
                continue
            if event == "queued":
                on_update("queued", int(message["position"]))
            elif event == "running":
                on_update("running", None)
            elif event == "output":
                chunk = _parse_chunk(message)
                if chunk is not None:
                    on_update("output", chunk)

    def _end_here(self, waiter: _Waiter, message: str) -> None:
        """End a run from this side (Redis unreachable, shutting down): its result is decided
        here, and the run is abandoned in Redis as soon as Redis answers."""
        if waiter.done:
            return
        waiter.done = True
        self._abandon.append(waiter.run_id)
        waiter.events.put({"event": "gone", "message": message})

    def _unreachable_message(self, exc: BaseException, for_run: bool = True) -> str:
        detail = "" if self.settings.hosted else f" ({redact(self.url)}: {exc})"
        what = "so this run could not be done" if for_run else "so no run can be done now"
        return (f"The run queue (Redis) cannot be reached{detail}, {what}. Runs work again as "
                "soon as it is back: try again in a moment.")

    # -- the reader ----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        next_tick = 0.0
        backoff = POLL_S
        while not self._closed:
            try:
                now = time.monotonic()
                if now >= next_tick:
                    self._tick(now)
                    next_tick = now + POLL_S
                item = self.redis.blpop([self.inbox], timeout=POLL_S)
                if item is not None:
                    self._route(str(item[1]))  # decode_responses: already a str
                    for raw in self.redis.lpop(self.inbox, 256) or []:
                        self._route(str(raw))
                self.reachable = True
                backoff = POLL_S
            except redis.RedisError as exc:
                if self._closed or self._still_reachable():
                    continue  # one dropped connection, not a lost server
                self.reachable = False
                self.counters["redis_lost"] += 1
                with self._lock:
                    waiters = list(self._waiters.values())
                for waiter in waiters:
                    self._end_here(waiter, self._unreachable_message(exc))
                time.sleep(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)
            except Exception:  # the reader must outlive any bug in one event
                log.exception("remote runner: reader")
                time.sleep(POLL_S)

    def _still_reachable(self) -> bool:
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def _tick(self, now: float) -> None:
        while self._abandon:
            self.queue.abandon(self._abandon[0], RunResult(
                status="crashed", message="The run was ended while the run queue was away."))
            self._abandon.popleft()
        requeued, crashed, self.live_hosts, epoch = self.queue.reap(
            RunResult(status="crashed", message=HOST_LOST),
            RunResult(status="cancelled", message=UNQUEUED_MESSAGE))
        self.counters["hosts_lost_runs"] += crashed
        self.counters["requeued"] += requeued
        with self._lock:
            waiters = [w for w in self._waiters.values() if w.member and not w.done]
        for waiter in [w for w in waiters if w.epoch != epoch]:  # Redis restarted meanwhile
            self.counters["lost_with_redis"] += 1
            self._end_here(waiter, RESTARTED)
        waiters = [w for w in waiters if not w.done]
        queued = [w for w in waiters if not w.running]
        for waiter, position in zip(queued, self.queue.positions([w.member for w in queued]),
                                    strict=True):
            if position is not None and position != waiter.position:
                waiter.position = position
                waiter.events.put({"event": "queued", "position": position})
        self._end_unavailable([w for w in queued if w.jax and not w.done and not w.expiring])
        for waiter in waiters:
            self._check_clocks(waiter, now)

    def _end_unavailable(self, queued: list[_Waiter]) -> None:
        """A waiting run whose JAX version no live host has any more (the last one that had it
        left) ends now with the message a new run for it gets, rather than waiting for a host
        that may never come; with no host at all it waits, as any run does."""
        if not queued:
            return
        hosts = self.queue.snapshot().hosts
        for waiter in queued:
            refused = _version_refusal(waiter.jax, hosts)
            if refused is not None and self.queue.expire(waiter.run_id, refused):
                waiter.expiring = True

    def _check_clocks(self, waiter: _Waiter, now: float) -> None:
        s = self.settings
        if not waiter.running and not waiter.expiring and now >= waiter.queue_deadline:
            none = "" if self.live_hosts else " (no worker host is connected)"
            self.queue.expire(waiter.run_id, RunResult(
                status="busy", queue_s=round(s.queue_wait_s, 3),
                message=(f"The server is busy: the run waited {s.queue_wait_s:g} s for a free "
                         f"slot{none}. Try again in a moment.")))
            waiter.expiring = True  # done, or a host claimed it meanwhile and will answer
        if waiter.abandoned_at is None and now >= waiter.final_deadline:
            self.queue.abandon(waiter.run_id, RunResult(status="crashed", message=NO_ANSWER))
            waiter.abandoned_at = now
        elif waiter.abandoned_at is not None and now >= waiter.abandoned_at + GIVE_UP_GRACE_S:
            waiter.done = True
            waiter.events.put({"event": "gone", "message": NO_ANSWER})

    def _route(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            run_id = message["id"]
        except (ValueError, TypeError, KeyError):
            self.counters["malformed_events"] += 1
            return
        with self._lock:
            waiter = self._waiters.get(run_id)
        if waiter is None or waiter.done:
            self.counters["events_without_waiter"] += 1
            return
        event = message.get("event")
        if event == "running":
            waiter.running = True
        elif event == "result":
            waiter.done = True
            self.counters["results"] += 1
        waiter.events.put(message)


def _version_refusal(version: str, hosts: list[HostEntry]) -> RunResult | None:
    """A JAX version no live worker host announces, naming the ones they have; None when some
    host has it, or when no host is connected (runs wait for one then)."""
    announced = [h.status.get("runtimes") for h in hosts]
    have = sorted({str(v) for a in announced if isinstance(a, list) for v in a})
    if not hosts or version in have:
        return None
    return RunResult(status="rejected", message=(
        f"JAX {version[:40]!r} is not available on any worker host (available: "
        f"{', '.join(have) or 'none announced'})."))


def _parse_result(data: Any) -> RunResult:
    """A host's result, checked: anything malformed becomes "crashed", never an exception."""
    try:  # strict and bounded, as the local Runner reads its supervisor (app/decoding.py)
        result = decoding.build(RunResult, data)
        if result.status not in STATUSES:
            raise ValueError(result.status)
        return result
    except (TypeError, ValueError, KeyError, AttributeError):  # DecodeError is a ValueError
        return RunResult(status="crashed", message="The worker host sent a malformed result.")


def _parse_chunk(message: dict[str, Any]) -> OutputChunk | None:
    stream, text = message.get("stream"), message.get("text")
    if stream not in ("stdout", "stderr") or not isinstance(text, str):
        return None
    return OutputChunk(stream, text)
