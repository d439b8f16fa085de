"""One structured log line and the metrics of every run, where a runner hands back its result.

The line names no person: the session and the client are hashed with a key made at the process's
start (lines of one process can be grouped by person; nothing links them to an address later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from app.observability import metrics
from app.protocol import RunRequest, RunResult

log = logging.getLogger("playground.runs")
_KEY = secrets.token_bytes(16)
ENDED_BY_A_LIMIT = {"timeout", "memory", "output_limit", "crashed", "cancelled"}


def pseudonym(value: str | None) -> str | None:
    if not value:
        return None
    return hmac.new(_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]


def record(request: RunRequest, result: RunResult, *, where: str, host: str | None = None,
           runtime: str | None = None) -> None:
    """Count the run and log its line; `where` is the side that saw it end ("local" runner,
    "replica" through Redis, or a worker "host")."""
    status = str(result.status)
    kill = status if status in ENDED_BY_A_LIMIT else None
    metrics.RUNS.labels(where=where, status=status).inc()
    metrics.QUEUE_WAIT.labels(where=where).observe(max(0.0, result.queue_s))
    metrics.RUN_DURATION.labels(where=where, status=status).observe(max(0.0, result.duration_s))
    log.info("run ended", extra={"fields": {
        "event": "run", "where": where, "run_id": request.run_id,
        "session": pseudonym(request.session_id), "client": pseudonym(request.client_id),
        "runtime": runtime, "device": result.platform, "target": result.target,
        "status": status, "kill_reason": kill, "queue_ms": round(result.queue_s * 1000),
        "run_ms": round(result.duration_s * 1000), "host": host,
        "check": request.check is not None,
    }})
