"""The Runner: what the app and the CLI call. It lives in the caller's process and never forks it.

It starts the supervisor (`python -m app.runner.supervisor`) with subprocess and talks to it over
pipes, one JSON object per line; one reader thread resolves each run's events. `run` is safe to
call from many threads (Streamlit sessions): the supervisor owns the queue and the pool. If the
supervisor dies, the runs in flight end "crashed" and the next call starts a new one.

The local implementation of app/runner/api/interface.py: a run in flight is known here by its
RunRequest.run_id, with the session that started it, so that `cancel` can refuse other sessions
and stop a run at any point of its way (before it reached the supervisor, queued, running).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from app import decoding, protocol
from app.config import Settings
from app.config import settings as load_settings
from app.observability import runs
from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner.api import precheck
from app.runner.api.admission import Admission, admission_from_settings
from app.runner.api.interface import OnUpdate
from app.runner.platform import REPO_ROOT
from app.runner.supervisor import outcome

START_TIMEOUT_S = 300.0  # platform detection, `import jax` in the zygote, the warm-up
ANSWER_MARGIN_S = 60.0  # beyond queue wait + run timeout, the supervisor is considered hung
CLOSE_TIMEOUT_S = 10.0
CANCEL_TIMEOUT_S = 10.0  # the supervisor answers a cancel at once; this is for a hung one
STREAMS = ("stdout", "stderr")


class SupervisorGone(RuntimeError):
    pass


class _Supervisor:
    """One supervisor process and the reader thread that routes its messages."""

    def __init__(self, config: Settings, python: str, warm_snippets: bool) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [python, "-m", "app.runner.supervisor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(REPO_ROOT),
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is for the caller, not for it
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.write_lock = threading.Lock()
        self.waiters: dict[int | None, queue.Queue[dict[str, Any]]] = {}
        self.waiters_lock = threading.Lock()
        self.hello: dict[str, Any] = {}
        self.warm: dict[str, Any] = {}
        self.ready = threading.Event()  # it answered: runs may be sent (they queue there)
        self.warmed = threading.Event()  # the warm-up filled the compilation cache
        self.alive = True
        self.reader = threading.Thread(
            target=self._read, args=(self.process.stdout,), name="runner-reader", daemon=True
        )
        self.reader.start()
        self.send({"op": "init", "settings": dataclasses.asdict(config.for_runs()),
                   "warm_snippets": warm_snippets})

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        with self.write_lock:
            try:
                self.stdin.write(data)
                self.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                raise SupervisorGone(str(exc)) from exc

    def subscribe(self, key: int) -> queue.Queue[dict[str, Any]]:
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        with self.waiters_lock:
            if not self.alive:
                raise SupervisorGone("the supervisor exited")
            self.waiters[key] = events
        return events

    def unsubscribe(self, key: int) -> None:
        with self.waiters_lock:
            self.waiters.pop(key, None)

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            event = message.get("event")
            if event == "hello":
                self.hello = message
                self.ready.set()
            elif event == "warm":
                self.warm = message
                self.warmed.set()
            elif event == "fatal":
                self.hello["fatal"] = message.get("message", "")
                self.warmed.set()
            with self.waiters_lock:
                target = self.waiters.get(message.get("id"))
            if target is not None:
                target.put(message)
        with self.waiters_lock:
            self.alive = False
            waiters = list(self.waiters.values())
            self.waiters.clear()
        self.ready.set()
        self.warmed.set()
        for target in waiters:
            target.put({"event": "gone"})

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        with contextlib.suppress(SupervisorGone):
            self.send({"op": "shutdown"})
        with contextlib.suppress(OSError), self.write_lock:
            self.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout)


@dataclass
class _Flight:
    """One run between run() and its result, as cancel() finds it by its run_id."""

    session_id: str | None
    lock: threading.Lock = field(default_factory=threading.Lock)  # sending vs stopping
    supervisor: _Supervisor | None = None
    key: int | None = None  # its id with the supervisor, once sent there
    cancelled: bool = False  # stopped before it was sent: it is never sent


def _rejected(message: str) -> RunResult:
    return RunResult(status="rejected", message=message)


class Runner:
    """Runs RunRequests in the sandbox; one per process is enough (see get_runner)."""

    def __init__(
        self,
        config: Settings | None = None,
        python: str = sys.executable,
        warm_snippets: bool = False,
        observed_as: str = "local",
    ) -> None:
        """warm_snippets: after the warm-up, also compile every shipped snippet into the cache,
        in the background, once per cache (the app's long-lived runner does; tests and the
        one-shot CLI do not)."""
        self.settings = config or load_settings()
        self.python = python
        self.warm_snippets = warm_snippets
        self.observed_as = observed_as  # the `where` of its runs' log lines and metrics
        self.admission: Admission = admission_from_settings(self.settings)
        self._lock = threading.Lock()
        self._supervisor: _Supervisor | None = None
        self._ids = itertools.count(1)
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()
        self._closed = False
        self.restarts = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, wait: bool = True) -> None:
        """Start the supervisor if it is not running; with wait, until the warm-up is done."""
        supervisor = self._ensure()
        if wait:
            supervisor.warmed.wait(START_TIMEOUT_S)

    def _ensure(self) -> _Supervisor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the runner is closed")
            current = self._supervisor
            if current is not None and current.alive and current.process.poll() is None:
                return current
            if current is not None:
                self.restarts += 1
                current.close(timeout=2.0)
            self._supervisor = _Supervisor(self.settings, self.python, self.warm_snippets)
            return self._supervisor

    def close(self) -> None:
        with self._lock:
            self._closed = True
            supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.close()

    def supervisor_pid(self) -> int | None:
        supervisor = self._supervisor
        return supervisor.process.pid if supervisor is not None else None

    # -- runs -------------------------------------------------------------------------------------

    def run(self, request: RunRequest, on_update: OnUpdate | None = None) -> RunResult:
        """Run one request; blocks until its result. on_update gets ("queued", position) while
        it waits for a slot, ("running", None) when it starts and ("output", OutputChunk) as it
        prints, in the calling thread. A request without a run_id is given one (uuid4 hex).
        Every result is counted and logged (app.observability.runs)."""
        result = self._run(request, on_update)
        runs.record(request, result, where=self.observed_as)
        return result

    def _run(self, request: RunRequest, on_update: OnUpdate | None) -> RunResult:
        refused = precheck.refusal(request, self.settings)
        if refused is not None:
            return refused
        if request.run_id is None:
            request.run_id = uuid.uuid4().hex
        run_id = request.run_id
        flight = _Flight(request.session_id)
        with self._flights_lock:
            if run_id in self._flights:
                return _rejected("A run with this id is already on its way.")
            self._flights[run_id] = flight
        try:
            refused = self.admission.admit(request)
            if refused is not None:
                return refused
            supervisor = self._ensure()
            supervisor.ready.wait(START_TIMEOUT_S)
            return self._run_on(supervisor, request, flight, on_update)
        except SupervisorGone:
            return RunResult(
                status="crashed", message="The sandbox supervisor stopped; it restarts now."
            )
        finally:
            with self._flights_lock:
                self._flights.pop(run_id, None)

    def _run_on(
        self,
        supervisor: _Supervisor,
        request: RunRequest,
        flight: _Flight,
        on_update: OnUpdate | None,
    ) -> RunResult:
        key = next(self._ids)
        events = supervisor.subscribe(key)
        try:
            # A cancel from now on either stops it here or reaches the supervisor after it.
            with flight.lock:
                if flight.cancelled:
                    return outcome.unqueued(0.0)
                flight.supervisor, flight.key = supervisor, key
                supervisor.send({"op": "run", "id": key, "request": protocol.to_dict(request),
                                 "stream": on_update is not None})
            timeout = min(request.timeout_s or self.settings.timeout_s, self.settings.max_timeout_s)
            deadline = time.monotonic() + self.settings.queue_wait_s + timeout + ANSWER_MARGIN_S
            while True:
                try:
                    message = events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    # A hung supervisor must not hang the caller: restart it for the next run.
                    with contextlib.suppress(ProcessLookupError):
                        supervisor.process.kill()
                    return RunResult(status="crashed", message="The sandbox did not answer.")
                event = message.get("event")
                if event == "result":
                    return _result(message.get("result"))
                if event == "gone":
                    return RunResult(
                        status="crashed",
                        message="The sandbox supervisor stopped during the run; it restarts now.",
                    )
                if on_update is not None:
                    _report(message, on_update)
        finally:
            supervisor.unsubscribe(key)

    def cancel(self, run_id: str, session_id: str | None = None) -> bool:
        """Stop a run on its way: True when it is being stopped (its result is "cancelled");
        False when no such run is in flight, it already ended, or it belongs to another session
        (given session_id, only runs of that session are found)."""
        with self._flights_lock:
            flight = self._flights.get(run_id)
        if flight is None or (session_id is not None and flight.session_id != session_id):
            return False
        with flight.lock:
            if flight.key is None or flight.supervisor is None:
                flight.cancelled = True  # run() sees it before sending and answers "cancelled"
                return True
            supervisor, ask = flight.supervisor, next(self._ids)
            try:
                answers = supervisor.subscribe(ask)
                supervisor.send({"op": "cancel", "id": ask, "run": flight.key})
            except SupervisorGone:
                supervisor.unsubscribe(ask)
                return False
        try:
            return bool(answers.get(timeout=CANCEL_TIMEOUT_S).get("found"))
        except queue.Empty:
            return False
        finally:
            supervisor.unsubscribe(ask)

    def status(self) -> dict[str, Any]:
        """Pool, queue, running, layers, platform and limits, for the System page."""
        try:
            supervisor = self._ensure()
            supervisor.ready.wait(START_TIMEOUT_S)
            run_id = next(self._ids)
            events = supervisor.subscribe(run_id)
            try:
                supervisor.send({"op": "status", "id": run_id})
                message = events.get(timeout=10.0)
            finally:
                supervisor.unsubscribe(run_id)
        except (SupervisorGone, queue.Empty) as exc:
            return {"running_supervisor": False, "error": str(exc) or "no answer"}
        info = dict(message.get("status", {}))
        info["running_supervisor"] = message.get("event") == "status"
        info["supervisor_restarts"] = self.restarts
        info["rate_per_minute"] = self.settings.effective_rate_per_minute
        return info


def _result(data: object) -> RunResult:
    """The supervisor's answer, decoded strictly: bounded by the protocol's caps, every field
    typed (it carries what a run produced; a mistake there must not raise in the app)."""
    try:
        return decoding.build(RunResult, data)
    except decoding.DecodeError as exc:
        return RunResult(status="crashed", message=f"The sandbox's answer could not be read: {exc}")


def _report(message: dict[str, Any], on_update: OnUpdate) -> None:
    """Pass one supervisor event of a run on to its caller."""
    event = message.get("event")
    if event == "queued":
        on_update("queued", int(message["position"]))
    elif event == "running":
        on_update("running", None)
    elif event == "output":
        for stream, text in message.get("chunks", []):
            if stream in STREAMS and isinstance(text, str):
                on_update("output", OutputChunk(stream, text))
