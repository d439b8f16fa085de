"""`python -m app worker-host --redis redis://HOST:PORT/DB [--slots N]`: one worker host.

It wraps today's local Runner (supervisor, zygote, sandbox: unchanged) with N running slots and
serves the shared queue in Redis: it claims a run only when it has a free slot, marks it started
just before handing it to the local Runner (a host lost before that point has its run queued
again; after it, the run ends "crashed": user code never runs twice), forwards the run's output
and result through its outbox, and stops a run when told to (cancel). A heartbeat thread renews
its key in Redis (its liveness: when the key expires, replicas declare the host lost) with its
status for the System page, and learns which of its runs are no longer its own.

Threads: the main loop (claims, control messages), one per run in flight (blocked in the local
Runner), the heartbeat, the local status poller, the outbox. SIGTERM/SIGINT: stop claiming, let
the runs in flight finish, leave; a second signal leaves at once.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import redis

from app import protocol
from app.config import Settings
from app.config import settings as load_settings
from app.observability import logs, metrics
from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner.api.runner import Runner
from app.runner.platform import state_dir
from app.runner.remote import keys
from app.runner.remote.connection import check_url, connect, redact
from app.runner.remote.outbox import Outbox
from app.runner.remote.queue import Claimed, RedisQueue
from app.runner.supervisor.outcome import UNQUEUED_MESSAGE

log = logging.getLogger("app.worker_host")

WAIT_S = 1.0  # longest block on Redis between two looks at the stop flag and the slots
CANCEL_RETRY_S = 0.1  # a stop that came before the local Runner knew the run: tried again
STATUS_EVERY_S = 2.0  # the local supervisor's status, refreshed for the heartbeat
RECONCILE_AFTER_S = 10.0  # a run Redis gives this host but the host does not know: freed after
BACKOFF_MAX_S = 2.0
DRAIN_MARGIN_S = 30.0  # on SIGTERM, the longest a run in flight is waited for, beyond its limit

HEARTBEAT_FILE = "worker-host.beat"  # touched at each heartbeat Redis took (container probes)
LOST = "The worker host lost track of this run, so it was ended. Run it again."


@dataclass
class _Held:
    """A run this host claimed."""

    lease: str
    started: bool = False  # handed to the local Runner
    stop_wanted: bool = False


class WorkerHost:
    def __init__(self, url: str, slots: int | None = None, config: Settings | None = None,
                 warm_snippets: bool = True) -> None:
        base = config or load_settings()
        self.slots = max(1, slots or base.max_concurrent)
        # Admission (rate limits, busy, per-client rules) is the replicas' business, applied
        # across the cluster in Redis: this host's own runner admits whatever it claimed.
        self.settings = dataclasses.replace(
            base, max_concurrent=self.slots, queue_size=max(base.queue_size, self.slots),
            rate_per_minute=0, hosted=False)
        self.url = url
        self.ttl_s = base.host_ttl_s
        self.redis = connect(url)
        self.queue = RedisQueue(self.redis)
        self.host_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.control_key = keys.host_control(self.host_id)
        self.local = Runner(self.settings, warm_snippets=warm_snippets, observed_as="host")
        self.outbox = Outbox(self.queue, retry_for_s=max(10.0, 2 * self.ttl_s))
        self.runs_total = 0
        self.started_at = time.time()
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # no more claims
        self._gone = threading.Event()  # heartbeats stop: the host leaves
        self._local_status: dict[str, Any] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until stopped; returns the process's exit code."""
        self.local.start(wait=True)  # the warm-up is done before the first claim
        self._refresh_local_status()
        fatal = self._local_status.get("fatal")
        if fatal:
            log.error("worker host: %s", fatal)
            self.local.close()
            return 2
        self._first_heartbeat()
        for target, name in ((self._heartbeat_loop, "host-heartbeat"),
                             (self._status_loop, "host-status")):
            threading.Thread(target=target, name=name, daemon=True).start()
        log.info("worker host %s: %d slot(s), %s, Redis %s", self.host_id, self.slots,
                 self._local_status.get("platform"), redact(self.url))
        try:
            self._loop()
            self._drain()
        finally:
            self._leave()
        return 0

    def stop(self) -> None:
        self._stopping.set()

    def _first_heartbeat(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                self._beat()
                return
            except redis.RedisError as exc:
                log.warning("worker host: Redis %s not reachable yet: %s", redact(self.url), exc)
                self._stopping.wait(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)

    def _drain(self) -> None:
        deadline = time.monotonic() + self.settings.max_timeout_s + DRAIN_MARGIN_S
        while self._held_count() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _leave(self) -> None:
        self.outbox.close(timeout=5.0)
        self._gone.set()
        # Without its key the host is lost to the replicas: anything still held is dealt with
        # by the next reap (queued again, or crashed), exactly as for a host that died.
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(keys.host(self.host_id))
        self.local.close()
        self.redis.close()
        log.info("worker host %s: left", self.host_id)

    # -- the main loop: claims and control messages --------------------------------------------

    def _loop(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                self._claim_while_free()
                waiting_stops = self._try_stops()
                wait_on = [self.control_key]
                if self._free_slots() > 0:
                    wait_on.append(keys.WAKE)
                item = self.redis.blpop(wait_on, timeout=CANCEL_RETRY_S if waiting_stops
                                        else WAIT_S)
                if item is not None and item[0] == self.control_key:
                    self._on_control(str(item[1]))  # decode_responses: already a str
                backoff = 0.2
            except redis.RedisError as exc:
                log.warning("worker host: Redis: %s", exc)
                self._stopping.wait(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)

    def _held_count(self) -> int:
        with self._lock:
            return len(self._held)

    def _free_slots(self) -> int:
        return self.slots - self._held_count()

    def _claim_while_free(self) -> None:
        while self._free_slots() > 0 and not self._stopping.is_set():
            lease = secrets.token_hex(8)
            claimed = self.queue.claim(self.host_id, lease, self._runtime_ids())
            if claimed is None:
                return
            held = _Held(lease)
            with self._lock:
                self._held[claimed.run_id] = held
            threading.Thread(target=self._serve_run, args=(claimed, held), name="host-run",
                             daemon=True).start()

    def _on_control(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("op") == "cancel":
            self._want_stop(str(message.get("id", "")))

    def _want_stop(self, run_id: str) -> None:
        with self._lock:
            held = self._held.get(run_id)
            if held is not None:
                held.stop_wanted = True

    def _try_stops(self) -> bool:
        """Ask the local Runner to stop every run wanted stopped; True while some could not be
        yet (handed over, but not yet known to the supervisor)."""
        with self._lock:
            wanted = [(run_id, held) for run_id, held in self._held.items()
                      if held.stop_wanted and held.started]
        waiting = False
        for run_id, held in wanted:
            if self.local.cancel(run_id):
                held.stop_wanted = False
            else:
                waiting = True
        return waiting

    # -- one run -------------------------------------------------------------------------------

    def _serve_run(self, claimed: Claimed, held: _Held) -> None:
        run_id = claimed.run_id
        released = False

        def done(_accepted: bool) -> None:
            self._release(run_id, counted=True)

        try:
            try:
                request = protocol.from_json(RunRequest, claimed.request)
            except (ValueError, TypeError, KeyError):
                request = None
            stopped = RunResult(status="cancelled", message=UNQUEUED_MESSAGE)
            if not self.queue.start(run_id, held.lease, stopped):
                return  # no longer ours (this host was declared lost), or stopped meanwhile
            held.started = True
            if request is None:
                result = RunResult(status="crashed", message="The request could not be read.")
            else:
                request.run_id = run_id

                def forward(kind: str, value: Any) -> None:
                    if kind == "output" and isinstance(value, OutputChunk):
                        self.outbox.output(run_id, held.lease, value.stream, value.text)

                try:  # streamed only when the replica asked for it, as the local Runner
                    result = self.local.run(request, forward if claimed.stream else None)
                    result.queue_s = round(claimed.queued_s + result.queue_s, 3)
                except Exception:  # a started run still gets its one result
                    log.exception("worker host: run %s", run_id)
                    result = RunResult(status="crashed",
                                       message="The worker host failed while running this run.")
            # The slot and the run's record go when Redis has the result (the outbox), so
            # the heartbeat never sees a run that is finished here but not yet there.
            self.outbox.finish(run_id, held.lease, result, done)
            released = True
        except redis.RedisError as exc:
            log.warning("worker host: run %s: Redis: %s", run_id, exc)
        except Exception:
            log.exception("worker host: run %s", run_id)
        finally:
            if not released:
                self._release(run_id, counted=False)

    def _release(self, run_id: str, counted: bool) -> None:
        with self._lock:
            self._held.pop(run_id, None)
            if counted:
                self.runs_total += 1
        with contextlib.suppress(redis.RedisError):  # wake the main loop: a slot is free
            self.redis.rpush(self.control_key, '{"op":"slot"}')

    # -- heartbeat and status ------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._gone.wait(self.ttl_s / 4):
            try:
                self._beat()
            except redis.RedisError as exc:
                log.warning("worker host: heartbeat: %s", exc)
            except Exception:
                log.exception("worker host: heartbeat")

    def _beat(self) -> None:
        with self._lock:
            leases = {run_id: held.lease for run_id, held in self._held.items()}
        lost = self.queue.heartbeat(self.host_id, self.status(), self.ttl_s, RECONCILE_AFTER_S,
                                    RunResult(status="crashed", message=LOST), leases)
        metrics.HEARTBEATS.inc()
        with contextlib.suppress(OSError):
            heartbeat_file(self.settings).touch()
        for run_id in lost:  # ended elsewhere (declared lost, abandoned): stop it here too
            log.warning("worker host: run %s is no longer this host's; stopping it", run_id)
            self._want_stop(run_id)

    def metrics_status(self) -> dict[str, Any]:
        """The local supervisor's last status (refreshed every STATUS_EVERY_S), for a scrape."""
        status = dict(self._local_status)
        status["running_supervisor"] = bool(status) and not status.get("fatal")
        return status

    def _status_loop(self) -> None:
        while not self._gone.wait(STATUS_EVERY_S):
            self._refresh_local_status()

    def _refresh_local_status(self) -> None:
        try:
            self._local_status = dict(self.local.status())
        except Exception:  # a heartbeat with an old status is better than none
            log.exception("worker host: local status")

    def _runtime_ids(self) -> list[str]:
        """The JAX runtimes this host runs (runtimes.toml ids), the default first: announced in
        its status, and named in its claims (it gets only runs for these, or for no version)."""
        return [str(r.get("id", ""))[:40] for r in self._local_status.get("runtimes", [])
                if isinstance(r, dict)][:16]

    def status(self) -> dict[str, Any]:
        """What the System page shows for this host (published with each heartbeat)."""
        local = self._local_status
        return {
            "host": self.host_id,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "slots": self.slots,
            "running": self._held_count(),
            "queued": local.get("queued", 0),
            "runs_total": self.runs_total,
            "late_results_ignored": self.outbox.late_results,
            "reports_dropped": self.outbox.dropped,
            "jax": _version("jax"),
            "runtimes": self._runtime_ids(),
            "platform": local.get("platform"),
            "device_kind": local.get("device_kind"),
            "device_count": local.get("device_count"),
            "layers": local.get("layers", {}),
            "notes": local.get("notes", []),
            "limits": local.get("limits", {}),
            "fatal": local.get("fatal", ""),
            "warm": local.get("warm", {}),
            "ttl_s": self.ttl_s,
            "stopping": self._stopping.is_set(),
            "started_at": self.started_at,
        }


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def heartbeat_file(config: Settings) -> Path:
    return state_dir(config) / HEARTBEAT_FILE


def alive(config: Settings, now: float | None = None) -> bool:
    """For a container's health probe: this machine's worker host had a heartbeat taken by
    Redis within three TTLs (false while Redis is away: the host cannot serve then either)."""
    try:
        age = (time.time() if now is None else now) - heartbeat_file(config).stat().st_mtime
    except OSError:
        return False
    return age <= 3 * config.host_ttl_s


def redis_url(given: str | None, password_file: str | None) -> str:
    """The queue's URL: --redis, else PLAYGROUND_RUNNER_URL; the password from
    --redis-password-file. A password in --redis itself is refused: every local user of the
    machine reads a process's arguments (ps), not its environment or a 0600 file."""
    if given is not None and urlsplit(given).password is not None:
        raise ValueError("--redis carries a password, which the process list shows to every "
                         "local user: set PLAYGROUND_RUNNER_URL or use --redis-password-file")
    url = given or load_settings().runner_url
    if not url:
        raise ValueError("no Redis: give --redis URL or set PLAYGROUND_RUNNER_URL")
    if password_file is not None:
        try:
            password = Path(password_file).read_text().strip("\r\n")
        except OSError as exc:
            raise ValueError(f"--redis-password-file: {exc.strerror}: {password_file}") from None
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        user = quote(parts.username or "", safe="")
        url = urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))
    try:
        check_url(url)
    except ValueError as exc:
        raise ValueError(f"--redis {exc}") from None
    return url


def worker_host_command(args: argparse.Namespace) -> int:
    logs.configure("worker-host")
    try:
        url = redis_url(args.redis, args.redis_password_file)
        host = WorkerHost(url, slots=args.slots, warm_snippets=not args.no_snippet_warmup)
    except ValueError as exc:
        print(f"worker-host: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum: int, _frame: Any) -> None:
        if host._stopping.is_set():
            raise SystemExit(128 + signum)  # a second signal: leave now
        log.info("worker host: signal %d: finishing the runs in flight, then leaving", signum)
        host.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    metrics.register_once("runner", metrics.RunnerCollector(host.metrics_status, "host"))
    metrics.serve(host.settings.metrics_port)
    return host.serve()
