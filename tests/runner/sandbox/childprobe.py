"""Fork a child, apply the sandbox in it, run a check there, and bring the answer back by pipe.

Used by the layer tests while (and besides) the real Runner exists: the same fork-from-a-
single-threaded-process situation as the zygote, without the rest of the pool.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.runner.sandbox.cgroups import RunCgroup
from app.runner.sandbox.entry import enter_child


@dataclass
class ChildOutcome:
    active: dict[str, bool]
    value: Any  # what check() returned, JSON round-tripped
    error: str | None  # traceback text if check() or enter_child raised
    exit_code: int | None
    signal: int | None


def _require_fork_safe_process() -> None:
    """Forking after the JAX backend started deadlocks the child (docs/architecture.md).

    `make test` runs tests/runner (with tests/runner/sandbox) in its own pytest process for this
    reason; fail at once, with the reason, instead of hanging until the test timeout.
    """
    import sys

    import pytest

    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is not None and getattr(bridge, "_backends", None):
        pytest.fail("the JAX backend is already running in this pytest process: fork-based "
                    "sandbox tests need a process of their own (see the Makefile's test target)")


def run_in_child(
    check: Callable[[], Any],
    settings: Settings,
    scratch: Path,
    cgroup: RunCgroup | None = None,
    before: Callable[[], None] | None = None,
    enter_sandbox: bool = True,
    run_uid: int | None = None,
) -> ChildOutcome:
    """before() runs in the child ahead of the sandbox (e.g. to become an unprivileged user);
    run_uid: the run's own uid, as the supervisor assigns one to each child."""
    _require_fork_safe_process()
    read_fd, write_fd = os.pipe()
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            faulthandler.disable()  # crashes are expected outcomes here, not test failures
            os.close(read_fd)
            os.close(go_write)
            os.read(go_read, 1)  # wait until the parent attached the cgroup
            answer: dict[str, Any] = {"active": {}, "value": None, "error": None}
            try:
                if before is not None:
                    before()
                if enter_sandbox:
                    answer["active"] = enter_child(settings, scratch, run_uid=run_uid)
                answer["value"] = check()
            except BaseException:
                answer["error"] = traceback.format_exc()
                code = 3
            # Small answers only: the parent reads after the exit (64 KiB pipe buffer).
            os.write(write_fd, json.dumps(answer, default=repr).encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    os.close(go_read)
    if cgroup is not None:
        cgroup.attach(pid)
    os.write(go_write, b"g")
    os.close(go_write)
    # Wait for the child, not for EOF: a daemon it left behind may hold the pipe open.
    _, status = os.waitpid(pid, 0)
    os.set_blocking(read_fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
    os.close(read_fd)
    data = json.loads(b"".join(chunks) or b'{"active": {}, "value": null, "error": "no answer"}')
    return ChildOutcome(
        data["active"],
        data["value"],
        data["error"],
        os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    )
