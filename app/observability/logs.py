"""Logging, configured in one place for every process of the playground (the app server, the
sandbox supervisor, a worker host): one line per record on stderr, as JSON by default so that a
log collector can read fields without parsing prose (PLAYGROUND_LOG_FORMAT=text for people),
at PLAYGROUND_LOG_LEVEL (default INFO).

A record's `fields` extra (a dict) is merged into its JSON line:
    log.info("run ended", extra={"fields": {"run_id": ..., "status": "ok"}})
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

_configured: str | None = None


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, component, logger, message and its fields."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({str(k): v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(component: str, environ: dict[str, str] | None = None) -> None:
    """Send every record of this process to stderr in the configured format; once per process
    (a second call with another component name only renames it)."""
    global _configured
    env = os.environ if environ is None else environ
    level = env.get("PLAYGROUND_LOG_LEVEL", "INFO").upper()
    text = env.get("PLAYGROUND_LOG_FORMAT", "json").lower() == "text"
    root = logging.getLogger()
    if _configured is None:
        stream = logging.StreamHandler(sys.stderr)
        stream.set_name("playground")
        root.addHandler(stream)
    handler = next(h for h in root.handlers if h.get_name() == "playground")
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {component} %(name)s: "
                                           "%(message)s") if text else JsonLines(component))
    root.setLevel(getattr(logging, level, logging.INFO))
    _configured = component
