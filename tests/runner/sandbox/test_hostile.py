"""The hostile suite: every case of app/selftest/hostile_cases.CASES through the real Runner.

The suite's parts (settings, leftovers, judging a result) are app.selftest.hostile's, which
`python -m app selftest --hostile` runs on a deployed host (deploy/container-check.sh runs it in
the container).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.protocol import RunRequest
from app.runner.api.runner import Runner
from app.selftest import hostile
from app.selftest.hostile_cases import CASES, Hostile

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-state")
    hostile.plant_state(path)
    return path


@pytest.fixture(scope="module")
def runner(state: Path) -> Iterator[Runner]:
    with hostile.suite_runner(state) as instance:
        yield instance


@pytest.fixture(scope="module")
def listener_port() -> Iterator[int]:
    with hostile.listener() as port:
        yield port


@pytest.fixture(scope="module")
def host_sockets() -> Iterator[list[str]]:
    with hostile.host_sockets() as sockets:
        yield sockets


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_snippet(runner: Runner, state: Path, listener_port: int, host_sockets: list[str],
                         case: Hostile) -> None:
    outcome = hostile.run_case(runner, state, listener_port, case, host_sockets)
    assert outcome.problem is None, outcome.line()


def test_the_socket_walk_finds_a_host_socket_it_can_see_and_reaches_none(
        runner: Runner, state: Path, listener_port: int, host_sockets: list[str]) -> None:
    """The host_socket_files case is only as good as its walk: the socket planted under /var/lib
    (visible to runs, unlike /run) must be among the socket files it found and tried."""
    visible = [path for path in host_sockets if path.startswith("/var/lib/")]
    if not visible:
        pytest.skip("this user may not plant a socket under /var/lib")
    (case,) = [c for c in CASES if c.name == "host_socket_files"]
    outcome = hostile.run_case(runner, state, listener_port, case, host_sockets)
    assert outcome.problem is None, outcome.line()
    found = {line.removeprefix("socket file ") for line in outcome.result.stdout.splitlines()
             if line.startswith("socket file ")}
    assert set(visible) <= found, outcome.result.stdout[-2000:]


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
    assert result.status in ("rejected", "crashed"), hostile.describe(result)
    assert "no_such_layer" in result.message + result.stderr, hostile.describe(result)
    assert not marker.exists()
