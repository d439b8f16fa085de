"""`get_runner()`: the process-wide runner, local or remote, as the app's settings choose."""

from __future__ import annotations

import atexit
import threading
from typing import Any

from app.config import settings as load_settings
from app.runner.api.interface import RunnerInterface
from app.runner.api.runner import Runner

_runner: Any = None  # a RunnerInterface: Runner, or RemoteRunner
_runner_lock = threading.Lock()


def get_runner() -> RunnerInterface:
    """The process-wide runner, started on first use and closed at interpreter exit: this
    host's own Runner, or the RemoteRunner when PLAYGROUND_RUNNER_URL names a Redis."""
    global _runner
    with _runner_lock:
        if _runner is None or _runner._closed:
            config = load_settings()
            if config.runner_url:
                from app.runner.remote.client import RemoteRunner  # redis only where it is used

                _runner = RemoteRunner(config)
            else:
                _runner = Runner(warm_snippets=True)
            atexit.register(_runner.close)
        return _runner


def started_runner_status() -> dict[str, Any]:
    """The runner's status if it has been started, else {} (a metrics scrape must not be what
    starts the sandbox)."""
    runner = _runner
    if runner is None or runner._closed:
        return {}
    return dict(runner.status())
