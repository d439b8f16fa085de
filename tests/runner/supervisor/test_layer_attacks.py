"""Hostile session cache layers through the real Runner, while another session's run goes on.

One Runner for the module with the default 64 MiB layer (room for the deep trees below) and two
slots: a victim's run sleeps in one slot while attacking runs leave hostile trees in their layers
and end (their layer is evicted from then). The supervisor must survive every one of them (the
same process answers throughout) and the victim must still be running, then stop as asked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from tests.runner.supervisor import hostile_trees
from tests.runner.supervisor.victim import Victim

CAP_MB = 64
LAYER = runner_platform.LAYER_PATH.format(fd=runner_platform.layer_fd(Settings()))
BUILDER = (Path(__file__).parent / "tree_builder.py").read_text()


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = Settings(
        max_concurrent=2,
        session_cache_mb=CAP_MB,
        state_dir=str(tmp_path_factory.mktemp("layer-attacks")),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    shared = Runner(config)
    shared.start()
    yield shared
    shared.close()


def attack(tree: list[object], share: float = 0.81) -> str:
    """A run that leaves `tree` in its layer, aged so eviction meets it first, padded to
    `share` of the layer (past the eviction mark, short of full)."""
    return BUILDER + (
        "\nimport json, os\n"
        f"root = os.open({LAYER!r}, os.O_RDONLY | os.O_DIRECTORY)\n"
        f"build(root, json.loads({json.dumps(tree)!r}))\n"
        "age_everything(root)\n"
        "try:\n"
        f"    fill_to(root, {share}, {CAP_MB << 20})\n"
        "except OSError as exc:\n"
        "    print('padding refused:', exc.strerror)\n"
        "print('built', flush=True)\n"
    )


def run(runner: Runner, code: str, session: str) -> RunResult:
    return runner.run(RunRequest(code=code, session_id=session, timeout_s=120))


def test_a_1500_deep_tree_in_a_layer_over_the_eviction_mark_ends_no_other_run(
        runner: Runner) -> None:
    """The reported attack, exactly: 1,500 nested directories and 4 x 13 MiB (81 % of 64 MiB).
    Before, eviction's recursive rmtree raised RecursionError out of the supervisor, and the
    victim ended `crashed: The runner shut down.`"""
    supervisor = runner.supervisor_pid()
    victim = Victim(runner)
    code = (
        "import os\n"
        f"fd = top = os.open({LAYER!r}, os.O_RDONLY | os.O_DIRECTORY)\n"
        "for _ in range(1500):\n"
        "    os.mkdir('d', dir_fd=fd)\n"
        "    deeper = os.open('d', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)\n"
        "    if fd != top:\n"
        "        os.close(fd)\n"
        "    fd = deeper\n"
        f"os.utime({LAYER!r} + '/d', (1, 1))\n"
        "for i in range(4):\n"
        f"    with open({LAYER!r} + f'/blob-{{i}}', 'wb') as f:\n"
        "        f.write(b'\\x01' * (13 << 20))\n"
        "print('built', flush=True)\n"
    )
    attacker = uuid.uuid4().hex
    built = run(runner, code, attacker)
    assert built.status == "ok" and built.stdout == "built\n", built
    # The layer was evicted when that run ended: its next run finds the tree gone.
    after = run(runner, f"import os\nprint(sorted(os.listdir({LAYER!r})))\n", attacker)
    assert after.status == "ok", after
    assert "'d'" not in after.stdout
    assert runner.supervisor_pid() == supervisor and runner.restarts == 0
    assert victim.still_running()
    assert victim.stop().status == "cancelled"


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tree=hostile_trees.trees(max_leaves=25), share=st.sampled_from([0.8, 0.9, 0.99, 1.2]))
def test_no_tree_an_attacking_run_leaves_ends_another_run(
        runner: Runner, tree: list[object], share: float) -> None:
    """Fuzz: any names, depths, sizes, links, modes and pipes, left over the eviction mark or
    filling the layer whole; the victim's run goes on throughout."""
    supervisor = runner.supervisor_pid()
    victim = Victim(runner)
    try:
        attacker = uuid.uuid4().hex
        result = run(runner, attack(tree, share), attacker)
        assert result.status in ("ok", "output_limit"), result  # output_limit: it filled it
        again = run(runner, "print('next')\n", attacker)
        assert again.status == "ok" and again.stdout == "next\n", again
        assert runner.supervisor_pid() == supervisor
        assert victim.still_running()
    finally:
        stopped = victim.stop()
    assert stopped.status == "cancelled", stopped


# -- one client cannot take every layer --------------------------------------------------------


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """Hosted (runs count against their client), 8 layers at most: 2 per client."""
    config = Settings(
        hosted=True,
        max_concurrent=1,
        session_cache_mb=2,
        session_cache_sessions=8,
        state_dir=str(tmp_path_factory.mktemp("layer-clients")),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    shared = Runner(config)
    shared.start()
    yield shared
    shared.close()


def test_a_client_making_many_sessions_leaves_another_clients_layer_alone(
        hosted: Runner) -> None:
    """32 new sessions of one client once evicted every other session's layer (their reruns
    compiled again) and pinned the layers' memory."""
    k = uuid.uuid4().int % 100_000 + 3
    code = f"import jax, jax.numpy as jnp\nprint(jax.jit(lambda x: x * {k})(jnp.ones(3)))\n"
    victim = RunRequest(code=code, session_id=uuid.uuid4().hex, client_id="victim",
                        timeout_s=60)
    first = hosted.run(victim)
    assert first.status == "ok" and first.compile_cache.get("session_writes", 0) >= 1, first
    for _ in range(12):  # one client, twelve new sessions (the cap is 8 layers in all)
        noise = hosted.run(RunRequest(code=code.replace(str(k), str(k + 1)),
                                      session_id=uuid.uuid4().hex, client_id="attacker",
                                      timeout_s=60))
        assert noise.status == "ok", noise
    victim.run_id = None
    again = hosted.run(victim)
    assert again.status == "ok", again
    assert again.compile_cache.get("session_hits", 0) >= 1, again  # its layer survived
    status = hosted.status()["session_cache"]
    assert status["layers"] <= 1 + status["max_sessions_per_client"]
