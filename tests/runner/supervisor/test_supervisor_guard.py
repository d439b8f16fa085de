"""The supervisor survives a failure while it handles one run: that run ends `crashed` with a
clear message, every other run goes on, and the same supervisor serves the next run.

The failure is injected (nothing a run can do raises there any more, which is the point): the
Runner is given a `python` that starts the real supervisor with pool.run_facts raising for runs
whose code carries a marker, as RecursionError once came out of the layer eviction."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.protocol import RunRequest
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from tests.runner.supervisor.victim import Victim

MARKER = "BREAK-THE-SUPERVISOR"
INJECT = f"""
import sys
from app.runner.supervisor import bootstrap, pool

original = pool.run_facts


def run_facts(c, cache_full=False):
    if c.run is not None and {MARKER!r} in c.run.request.code:
        raise RecursionError("injected: handling this run fails")
    return original(c, cache_full)


pool.run_facts = run_facts
sys.exit(bootstrap.main())
"""


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = tmp_path_factory.mktemp("guard")
    (folder / "inject.py").write_text(INJECT)
    python = folder / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {folder / 'inject.py'}\n")
    python.chmod(0o755)
    config = Settings(
        max_concurrent=2,
        state_dir=str(folder / "state"),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    shared = Runner(config, python=str(python))
    shared.start()
    yield shared
    shared.close()


def test_a_run_whose_handling_raises_ends_crashed_and_no_other_run_does(
        runner: Runner, tmp_path: Path) -> None:
    supervisor = runner.supervisor_pid()
    victim = Victim(runner)
    broken = runner.run(RunRequest(code=f"print('{MARKER}')", session_id=uuid.uuid4().hex))
    assert broken.status == "crashed", broken
    assert broken.message.startswith("The runner could not finish this run"), broken
    assert runner.supervisor_pid() == supervisor and runner.restarts == 0
    assert victim.still_running()
    after = runner.run(RunRequest(code="print(6 * 7)", session_id=uuid.uuid4().hex))
    assert after.status == "ok" and after.stdout == "42\n", after
    assert victim.stop().status == "cancelled"
