"""The supervisor process's start: `python -m app.runner.supervisor` (see __init__.py)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
from pathlib import Path

from app import protocol, runtimes
from app.config import Settings
from app.observability import logs
from app.runner import platform as platform_module
from app.runner.supervisor import tree_removal
from app.runner.supervisor.service import Supervisor
from app.runner.zygote import child as child_module

PR_SET_CHILD_SUBREAPER = 36
log = logging.getLogger("playground.supervisor")


def _become_subreaper() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _remove_stale_run_dirs(settings: Settings) -> None:
    """Scratch left by a supervisor that was killed: its pid is no longer alive."""
    root = platform_module.state_dir(settings)
    for path in root.glob("runs-*"):
        pid = path.name.removeprefix("runs-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tree_removal.remove_path(path)  # whatever its runs left: never raises


def main() -> int:
    first = child_module.read_line(0)  # byte-exact: later lines are read from fd 0 directly
    message = json.loads(first) if first.strip() else {}
    settings = protocol.from_dict(Settings, message.get("settings", {}))
    _become_subreaper()
    root = platform_module.state_dir(settings)
    # Traversable, not listable: a sandboxed run (maybe another uid) reaches only its own scratch.
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    for runtime_id in {r.id for r in runtimes.installed(settings)} | {""}:
        platform_module.runtime_cache_dir(settings, runtime_id).mkdir(
            mode=0o755, parents=True, exist_ok=True)
    _remove_stale_run_dirs(settings)
    logs.configure("supervisor")
    supervisor = Supervisor(settings, warm_snippets=bool(message.get("warm_snippets")))
    log.info("supervisor started", extra={"fields": {
        "event": "supervisor_start", "pid": os.getpid(), "slots": supervisor.max_concurrent,
        "platform": supervisor.info.platform,
        "layers_on": sum(map(bool, supervisor.layers.values())), "layers": len(supervisor.layers)}})
    try:
        supervisor.serve()
    except BaseException:
        log.exception("supervisor stopped by an error",
                      extra={"fields": {"event": "supervisor_crash"}})
        raise
    finally:
        supervisor.shutdown()
        log.info("supervisor stopped", extra={"fields": {"event": "supervisor_stop",
                                                         "runs_total": supervisor.runs_total}})
    return 0
