"""What a worker host tells Redis about its runs (output chunks, results), in order, from one
thread: a run's output always reaches its replica before its result, and many small chunks go
in one round trip (adjacent chunks of one stream are joined, up to EVENT_TEXT_MAX each)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from app.protocol import RunResult
from app.runner.remote.queue import RedisQueue

log = logging.getLogger(__name__)

EVENT_TEXT_MAX = 64 * 1024  # characters of output in one event
BATCH_MAX = 256  # reports sent in one round trip
RETRY_S = 0.2


@dataclass
class _Output:
    run_id: str
    lease: str
    stream: str
    text: str


@dataclass
class _Finish:
    run_id: str
    lease: str
    result: RunResult
    done: Callable[[bool], None]  # called with whether Redis took the result as the run's


class Outbox:
    def __init__(self, run_queue: RedisQueue, retry_for_s: float) -> None:
        """retry_for_s: how long a report is retried while Redis cannot be reached; after it,
        the replicas have given up on these runs anyway (they end them "crashed")."""
        self.queue = run_queue
        self.retry_for_s = retry_for_s
        self.late_results = 0  # results Redis refused: the run was no longer this host's
        self.dropped = 0  # reports given up while Redis was away
        self._items: queue.Queue[_Output | _Finish | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="host-outbox", daemon=True)
        self._thread.start()

    def output(self, run_id: str, lease: str, stream: str, text: str) -> None:
        self._items.put(_Output(run_id, lease, stream, text))

    def finish(self, run_id: str, lease: str, result: RunResult,
               done: Callable[[bool], None]) -> None:
        self._items.put(_Finish(run_id, lease, result, done))

    def close(self, timeout: float) -> None:
        """Send what is queued, then stop."""
        self._items.put(None)
        self._thread.join(timeout)

    # -- the thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            batch: list[_Output | _Finish] = []
            item = self._items.get()
            closing = item is None
            if item is not None:
                batch.append(item)
            while not closing and len(batch) < BATCH_MAX:
                try:
                    item = self._items.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                else:
                    batch.append(item)
            if batch:
                self._send(batch)
            if closing:
                return

    def _send(self, batch: list[_Output | _Finish]) -> None:
        calls = calls_for(batch)
        replies: list[Any] | None = None
        give_up = time.monotonic() + self.retry_for_s
        while replies is None:
            try:
                replies = self.queue.pipeline_calls([call for call, _ in calls])
            except redis.RedisError as exc:
                if time.monotonic() >= give_up:
                    log.warning("worker host: dropped %d report(s), Redis away: %s",
                                len(batch), exc)
                    self.dropped += len(batch)
                    break
                time.sleep(RETRY_S)
        for index, (_, finish) in enumerate(calls):
            if finish is None:
                continue
            accepted = replies is not None and replies[index] == 1
            if replies is not None and not accepted:
                self.late_results += 1
            try:
                finish.done(accepted)
            except Exception:  # the host's bookkeeping must not stop the reports
                log.exception("worker host: after a result")


def calls_for(batch: list[_Output | _Finish]) -> list[tuple[tuple[str, tuple[Any, ...]],
                                                          _Finish | None]]:
    """The Redis calls for a batch, in its order: consecutive outputs of one run become one
    emit (adjacent text of one stream joined), each result one finish."""
    calls: list[tuple[tuple[str, tuple[Any, ...]], _Finish | None]] = []
    pending: list[_Output] = []

    def flush() -> None:
        if pending:
            first = pending[0]
            calls.append((RedisQueue.emit_call(first.run_id, first.lease, events(pending)), None))
            pending.clear()

    for item in batch:
        if isinstance(item, _Finish):
            flush()
            calls.append((RedisQueue.finish_call(item.run_id, item.lease, item.result), item))
        else:
            if pending and (pending[0].run_id, pending[0].lease) != (item.run_id, item.lease):
                flush()
            pending.append(item)
    flush()
    return calls


def events(outputs: list[_Output]) -> list[str]:
    """Output events for one run, adjacent chunks of a stream joined up to EVENT_TEXT_MAX."""
    joined: list[list[str]] = []  # [stream, text]
    for chunk in outputs:
        if joined and joined[-1][0] == chunk.stream and \
                len(joined[-1][1]) + len(chunk.text) <= EVENT_TEXT_MAX:
            joined[-1][1] += chunk.text
        else:
            joined.append([chunk.stream, chunk.text])
    run_id = outputs[0].run_id
    return [json.dumps({"event": "output", "id": run_id, "stream": stream, "text": text})
            for stream, text in joined]
