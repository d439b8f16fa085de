"""Send RunRequests to the shared runner and show progress while they wait and run.

The runner is one object for the whole server (st.cache_resource), safe across sessions. A run
blocks only the calling session's script thread; the call itself happens on a helper thread so
that the script thread can redraw the queue position as the runner reports it, whichever thread
the runner calls on_update from.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app import client_address
from app.config import settings
from app.protocol import RunRequest, RunResult
from app.ui import icons, state
from app.ui.messages import progress_message

log = logging.getLogger(__name__)
_POLL_S = 0.1


@st.cache_resource(show_spinner="Starting the sandbox…")
def shared_runner() -> Any:
    """The process-wide runner (its pool starts once per server, not once per session)."""
    from app.runner import get_runner  # imported late: pages still render if it fails

    return get_runner()


def _failure(exc: BaseException) -> RunResult:
    log.error("the runner failed", exc_info=exc)
    detail = "" if settings().hosted else f" ({type(exc).__name__}: {exc})"
    return RunResult(
        status="crashed",
        message=f"The playground's sandbox could not take this run{detail}. "
        "Try again in a moment; if it persists, tell whoever runs this server.",
    )


class _Call:
    """One request on its own thread, with the latest (kind, position) the runner reported."""

    def __init__(self, runner: Any, request: RunRequest) -> None:
        self._lock = threading.Lock()
        self._update: tuple[str, int | None] = ("sending", None)
        self.result: RunResult | None = None
        self._thread = threading.Thread(
            target=self._run, args=(runner, request), name="playground-run", daemon=True
        )
        self._thread.start()

    def _on_update(self, kind: str, position: int | None = None) -> None:
        if kind not in ("queued", "running"):  # streamed output: not shown here yet
            return
        with self._lock:
            self._update = (kind, position)

    def _run(self, runner: Any, request: RunRequest) -> None:
        try:
            self.result = runner.run(request, on_update=self._on_update)
        except BaseException as exc:  # reported to the person, logged for the operator
            self.result = _failure(exc)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def progress(self) -> str:
        with self._lock:
            return progress_message(*self._update)


@dataclass
class Pending:
    """Runs on their way, kept in session state: a rerun that interrupts the wait (another click,
    a page switch) does not lose them; the next draw of their area picks the results up."""

    calls: list[_Call]
    payload: Any  # what the area needs beside the results (the code that ran, labels)


def current_client() -> str | None:
    """This session's client address (hosted limits are keyed by it): the peer Streamlit saw,
    or what a trusted proxy says in X-Forwarded-For (app/client_address.py)."""
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get_all("X-Forwarded-For")
        trusted = client_address.parse_networks(settings().trusted_proxies)
    except Exception:  # no request context (a bare script run): no client to key by
        return None
    return client_address.client_id(peer, forwarded, trusted)


def submit(area_id: str, requests: list[RunRequest], payload: Any = None) -> None:
    """Start requests at once for area_id (replacing any earlier pending ones there)."""
    try:
        runner = shared_runner()
    except Exception as exc:  # the sandbox failed to start: every request gets that answer
        calls = [_Call(_FailingRunner(exc), request) for request in requests]
    else:
        client = current_client()
        for request in requests:
            request.session_id = request.session_id or state.session_id()
            request.client_id = request.client_id or client
        calls = [_Call(runner, request) for request in requests]
    state.set_pending(area_id, Pending(calls, payload))


def collect(area_id: str) -> tuple[list[RunResult], Any] | None:
    """Wait here for area_id's pending runs (one status line while they queue and run)."""
    pending = state.pending(area_id)
    if not isinstance(pending, Pending):
        return None
    line = st.empty()
    try:
        shown = None
        while not all(call.done for call in pending.calls):
            current = " · ".join(
                dict.fromkeys(call.progress() for call in pending.calls if not call.done)
            )
            if current != shown:
                line.info(current, icon=icons.WAIT)
                shown = current
            time.sleep(_POLL_S)
    finally:
        line.empty()
    state.set_pending(area_id, None)
    results = [call.result or _failure(RuntimeError("the run returned nothing"))
               for call in pending.calls]
    return results, pending.payload


def latest_result(area_id: str) -> tuple[RunResult, Any] | None:
    """The area's single run: collected if it just finished, else the one kept in the session."""
    done = collect(area_id)
    if done:
        (result,), ran_code = done
        state.set_result(area_id, (result, ran_code))
    return state.result(area_id)


class _FailingRunner:
    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def run(self, request: RunRequest, on_update: Any = None) -> RunResult:
        raise self._exc
