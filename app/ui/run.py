"""Send RunRequests to the shared runner, show them while they wait and run, and stop them.

The runner is one object for the whole server (st.cache_resource), safe across sessions. Each
request runs on a helper thread (the runner blocks that thread, and reports the queue position,
the start and the output as they come); the calls are kept in session state, so a rerun that
interrupts a draw (another click, a page switch) loses nothing.

The script does not wait for a run. After Run, collect() waits in place only INLINE_WAIT_S, so a
quick run shows its result in the same draw; a longer one gets the live panel: a fragment that
Streamlit reruns every TICK_S (`run_every`) to show the queue position or the elapsed time
against the limit, the output so far and a Stop button. When the runs are done, the panel
reruns the app and the area's next draw collects them.

Why not a loop that waits in the script, as before: a click inside a fragment never interrupts
a fragment that is running (Streamlit queues it until that run ends), so a Stop button beside
such a loop could not stop anything, Run could not replace the run, and Streamlit's own header
Stop left the loop's "Running…" line on the page for good. Stopping goes through
runner.cancel(run_id, session_id): only this session's runs can be stopped.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from app import client_address
from app.config import settings
from app.protocol import OutputChunk, RunRequest, RunResult
from app.ui import jax_version, state
from app.ui.messages import progress_message
from app.ui.widgets.live import CallView, show_live

log = logging.getLogger(__name__)

# A run done this soon after its click is shown in the same draw, without the live panel (a draw
# with no panel is the cheapest). Not longer: at 0.8 s a quick run's inline result left the
# Download .py button with the code from before the run (tests/browser/test_newcomer.py,
# the failing-line test), a draw-order question not solved yet.
INLINE_WAIT_S = 0.35
# The live panel redraws this often while runs are in flight (PLAYGROUND_LIVE_UPDATE_S, 1 s):
# each redraw is a fragment rerun, ~10 ms of the server's CPU, mostly Streamlit's own.
TICK_S = settings().live_update_s
STOP_WAIT_S = 2.0  # after Stop, the panel waits this long for the stopped result
CANCEL_RETRY_S = 2.0  # a stop that found no run yet (still being sent) is retried this long
# Set in session state by tests/ui: AppTest runs the script once per call and has no timer to
# rerun the live panel, so there the area waits in place until its runs are done.
WAIT_IN_PLACE = "run::wait-in-place"


@st.cache_resource(show_spinner="Starting the sandbox…")
def shared_runner() -> Any:
    """The process-wide runner (its pool starts once per server, not once per session)."""
    from app.runner.factory import get_runner  # imported late: pages still render if it fails

    return get_runner()


def _failure(exc: BaseException) -> RunResult:
    log.error("the runner failed", exc_info=exc)
    detail = "" if settings().hosted else f" ({type(exc).__name__}: {exc})"
    return RunResult(
        status="crashed",
        message=f"The playground's sandbox could not take this run{detail}. "
        "Try again in a moment; if it persists, tell whoever runs this server.",
    )


def time_limit(request: RunRequest) -> float:
    """The wall-clock limit the runner applies to this request (see the supervisor's submit)."""
    limits = settings()
    return min(request.timeout_s or limits.timeout_s, limits.max_timeout_s)


class _Call:
    """One request on its own thread: what the runner reported so far, then its result."""

    def __init__(self, runner: Any, request: RunRequest) -> None:
        self._runner = runner
        self.request = request
        self.limit_s = time_limit(request)
        self._lock = threading.Lock()
        self._kind = "sending"
        self._position: int | None = None
        self._running_since: float | None = None
        self._output: list[OutputChunk] = []
        self.stopping = False
        self.result: RunResult | None = None
        self._thread = threading.Thread(target=self._run, name="playground-run", daemon=True)
        self._thread.start()

    def _on_update(self, kind: str, value: Any = None) -> None:
        with self._lock:
            if kind == "output" and isinstance(value, OutputChunk):
                if self._output and self._output[-1].stream == value.stream:
                    self._output[-1] = OutputChunk(value.stream, self._output[-1].text + value.text)
                else:
                    self._output.append(value)
            elif kind in ("queued", "running"):
                self._kind, self._position = kind, value
                if kind == "running" and self._running_since is None:
                    self._running_since = time.monotonic()

    def _run(self) -> None:
        try:
            self.result = self._runner.run(self.request, on_update=self._on_update)
        except BaseException as exc:  # reported to the person, logged for the operator
            self.result = _failure(exc)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, seconds: float | None) -> None:
        self._thread.join(seconds)

    def stop(self) -> None:
        """Ask the runner to stop this run, off the script thread. A run still on its way to
        the runner is not found at first: ask again for a moment."""
        if self.done or self.stopping:
            return
        self.stopping = True
        threading.Thread(target=self._keep_stopping, name="playground-stop", daemon=True).start()

    def _keep_stopping(self) -> None:
        deadline = time.monotonic() + CANCEL_RETRY_S
        while not self.done and time.monotonic() < deadline:
            try:
                if self._runner.cancel(self.request.run_id, self.request.session_id):
                    return
            except Exception as exc:
                log.warning("stopping a run failed: %s", exc)
                return
            time.sleep(0.05)

    def view(self) -> CallView:
        with self._lock:
            elapsed = (time.monotonic() - self._running_since
                       if self._running_since is not None else None)
            if self.stopping:
                line = "Stopping…"
            else:
                line = progress_message(self._kind, self._position, elapsed, self.limit_s)
            return CallView(line=line, output=list(self._output))


@dataclass
class Pending:
    """Runs on their way, kept in session state until their area's draw collects them."""

    calls: list[_Call]
    payload: Any  # what the area needs beside the results (the code that ran, labels)
    fresh: bool = True  # submitted in this draw: worth waiting for in place a moment
    stop_asked: bool = field(default=False)

    @property
    def done(self) -> bool:
        return all(call.done for call in self.calls)

    def stop(self) -> None:
        self.stop_asked = True
        for call in self.calls:
            call.stop()

    def wait(self, seconds: float) -> bool:
        """Wait up to seconds (float("inf"): until done) for every call; True when done.
        Joins the calls' threads: the draw goes on the moment the last result is in."""
        deadline = time.monotonic() + seconds
        for call in self.calls:
            left = deadline - time.monotonic()
            if left <= 0 and not call.done:
                return False
            call.join(None if left == float("inf") else max(0.0, left))
        return self.done


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
    """Start requests at once for area_id, in place of its last results. Runs of that area
    still in flight are stopped: pressing Run again replaces them instead of queueing behind."""
    previous = state.pending(area_id)
    if isinstance(previous, Pending):
        previous.stop()
    state.set_result(area_id, None)
    try:
        runner = shared_runner()
    except Exception as exc:  # the sandbox failed to start: every request gets that answer
        runner = _FailingRunner(exc)
    client = current_client()
    version = jax_version.current()
    for request in requests:
        request.jax = request.jax or version  # the session's JAX version
        request.session_id = request.session_id or state.session_id()
        request.client_id = request.client_id or client
        request.run_id = uuid.uuid4().hex  # the name under which this session can stop it
    state.set_pending(area_id, Pending([_Call(runner, request) for request in requests], payload))


def collect(area_id: str) -> tuple[list[RunResult], Any] | None:
    """area_id's results once its runs are done (then forgotten here), else None, with the
    live panel drawn in their place."""
    pending = state.pending(area_id)
    if not isinstance(pending, Pending):
        return None
    if st.session_state.get(WAIT_IN_PLACE):
        _wait_in_place(pending, float("inf"))
    elif pending.fresh:
        _wait_in_place(pending, INLINE_WAIT_S)
    pending.fresh = False
    if not pending.done:
        _live_panel(area_id)
        return None
    state.set_pending(area_id, None)
    results = [call.result or _failure(RuntimeError("the run returned nothing"))
               for call in pending.calls]
    return results, pending.payload


def latest_result(area_id: str) -> tuple[RunResult, Any] | None:
    """The area's single run: collected if it just finished, else the one kept in the session
    (none while a run is in flight: the live panel stands in for it)."""
    done = collect(area_id)
    if done:
        (result,), ran_code = done
        state.set_result(area_id, (result, ran_code))
    return state.result(area_id)


def stop(area_id: str) -> None:
    """Stop the area's runs in flight (the Stop button's callback)."""
    pending = state.pending(area_id)
    if isinstance(pending, Pending):
        pending.stop()


def _wait_in_place(pending: Pending, seconds: float) -> None:
    try:
        pending.wait(seconds)
    except StopException:  # Streamlit's header Stop during the wait: stop the runs too
        pending.stop()
        raise


@st.fragment(run_every=TICK_S)
def _live_panel(area_id: str) -> None:
    """The area's runs while they wait and run; Streamlit reruns it every TICK_S."""
    pending = state.pending(area_id)
    if not isinstance(pending, Pending):
        return  # collected by a draw of the whole page meanwhile
    try:
        if pending.stop_asked:
            pending.wait(STOP_WAIT_S)
        if pending.done:
            st.rerun()  # the area's next draw collects the results
        show_live([call.view() for call in pending.calls], f"stop::{area_id}",
                  on_stop=stop, args=(area_id,), stopping=pending.stop_asked)
    except StopException:
        pending.stop()
        raise


class _FailingRunner:
    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def run(self, request: RunRequest, on_update: Any = None) -> RunResult:
        raise self._exc

    def cancel(self, run_id: str, session_id: str | None = None) -> bool:
        return False
