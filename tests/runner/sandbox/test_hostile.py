"""The hostile suite: every case of hostile_cases.CASES through the real Runner.

For each case: the status is one of the case's clean outcomes (with a message unless "ok"), the
case's own check holds, nothing of the run is left (no process in the supervisor's tree or in a
run cgroup beyond the idle pool, no scratch directory), and an ordinary run right after succeeds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from app.runner.sandbox import cgroups, mounts
from tests.runner.sandbox.hostile_cases import CASES, Hostile

SECRET_NAME = "HOSTILE_TEST_TOKEN"
SECRET_VALUE = "s3cr3t"
SETTLE_S = 15.0
PREFORK = 1
# An idle preforked child is up to three processes: the waiter, pid 1 of its namespace, the worker.
PROCESSES_PER_CHILD = 3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-state")
    other_run = path / "runs-1" / "run-1"
    other_run.mkdir(parents=True)
    (other_run / "secret.txt").write_text("another user's notebook")
    (path / "planted.txt").write_text("state dir secret")
    return path


@pytest.fixture(scope="module")
def runner(state: Path) -> Iterator[Runner]:
    config = Settings(
        timeout_s=4,
        max_timeout_s=4,
        cpu_s=6,  # above the 4 s wall clock: XLA's threads fill memory bombs fast
        memory_mb=768,
        max_pids=64,
        file_size_mb=8,
        output_bytes=64 * 1024,
        max_concurrent=1,
        prefork=PREFORK,
        pool_memory_mb=1,  # no room to grow the pool: every process beyond `prefork` is a leftover
        state_dir=str(state),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    saved = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = SECRET_VALUE  # the server's environment, inherited by the runner
    os.environ["PLAYGROUND_HOSTILE_SECRET"] = SECRET_VALUE
    try:
        instance = Runner(config)
        instance.start()
    finally:
        os.environ.pop("PLAYGROUND_HOSTILE_SECRET", None)
        if saved is None:
            os.environ.pop(SECRET_NAME, None)
        else:
            os.environ[SECRET_NAME] = saved
    warm = instance.run(RunRequest(code="import jax.numpy as jnp\nprint(jnp.arange(3).sum())"))
    assert warm.status == "ok", warm
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def listener_port() -> Iterator[int]:
    """A server on the host's loopback: a connect that escaped the sandbox would succeed."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def _code(case: Hostile, state: Path, listener_port: int) -> str:
    cache = runner_platform.compile_cache_dir(Settings())
    return (
        case.code.replace("{listener_port}", str(listener_port))
        .replace("{repo}", str(mounts.REPO_ROOT))
        .replace("{cache}", str(cache))
        .replace("{state}", str(state))
        .replace("{other_run}", str(state / "runs-1" / "run-1"))
    )


def _leftovers(runner: Runner, state: Path) -> list[str]:
    """What of finished runs still exists: processes, cgroups, scratch directories."""
    sup_pid = runner.supervisor_pid()
    assert sup_pid is not None
    problems: list[str] = []
    parents: dict[int, int] = {}
    for process in psutil.Process(sup_pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # exiting while we look: not a leftover
            parents[process.pid] = process.ppid()
    tree = list(parents)
    zygotes = [pid for pid, ppid in parents.items() if ppid == sup_pid]
    run_processes = [pid for pid, ppid in parents.items() if ppid != sup_pid]
    if len(zygotes) != 1 or len(run_processes) > PREFORK * PROCESSES_PER_CHILD:
        problems.append(f"processes under the supervisor: {tree}")
    scratch = list((state / f"runs-{sup_pid}").glob("run-*"))
    if len(scratch) > PREFORK:
        problems.append(f"scratch dirs: {[p.name for p in scratch]}")
    pids_root = cgroups.CGROUP_ROOT / "pids" / cgroups.GROUP_NAME
    groups = list(pids_root.glob(f"{sup_pid}-*")) if pids_root.is_dir() else []
    in_groups = sum(len(_read_or_empty(g / "cgroup.procs").split()) for g in groups)
    if len(groups) > PREFORK or in_groups > PREFORK * PROCESSES_PER_CHILD:
        problems.append(f"run cgroups: {[g.name for g in groups]} holding {in_groups} processes")
    return problems


def _read_or_empty(path: Path) -> str:
    """A cgroup file, or "" when its cgroup went away while we looked (not a leftover)."""
    try:
        return path.read_text()
    except OSError:  # ENOENT, or ENODEV when it is removed mid-read
        return ""


def _settled(runner: Runner, state: Path) -> list[str]:
    deadline = time.monotonic() + SETTLE_S
    while (problems := _leftovers(runner, state)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return problems


def _describe(result: RunResult) -> str:
    error = f"{result.error.type}: {result.error.message[:200]}" if result.error else None
    return (
        f"status={result.status} message={result.message!r} error={error} "
        f"stdout={result.stdout[-300:]!r} stderr={result.stderr[-300:]!r}"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_snippet(runner: Runner, state: Path, listener_port: int, case: Hostile) -> None:
    result = runner.run(RunRequest(code=_code(case, state, listener_port)))
    assert result.status in case.statuses, _describe(result)
    if result.status != "ok":
        assert result.message or result.error, _describe(result)
    if case.check is not None:
        assert case.check(result), _describe(result)
    assert _settled(runner, state) == []
    after = runner.run(RunRequest(code="print(6 * 7)"))
    assert after.status == "ok" and after.stdout == "42\n", _describe(after)


def test_the_suite_is_big_enough() -> None:
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


def test_layers_are_reported_on_each_result(runner: Runner) -> None:
    result = runner.run(RunRequest(code="print('hi')"))
    assert result.status == "ok"
    for layer in ("net_ns", "mount_ns", "pid_ns", "seccomp", "rlimits", "cgroup_memory"):
        assert layer in result.sandbox, result.sandbox


def test_a_missing_required_layer_runs_nothing(tmp_path: Path) -> None:
    """Hosted mode fails closed: a layer the operator requires but the host lacks stops all runs."""
    marker = tmp_path / "ran"
    config = Settings(require_sandbox="net_ns,no_such_layer", state_dir=str(tmp_path / "state"))
    instance = Runner(config)
    try:
        instance.start()
        result = instance.run(RunRequest(code=f"open({str(marker)!r}, 'w').write('x')"))
    finally:
        instance.close()
    assert result.status in ("rejected", "crashed"), _describe(result)
    assert "no_such_layer" in result.message + result.stderr, _describe(result)
    assert not marker.exists()
