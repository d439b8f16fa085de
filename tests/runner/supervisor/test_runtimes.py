"""Runs on each JAX runtime: one zygote per runtime, started when first needed, in the same
sandbox; every result says the JAX, jaxlib and Python it ran on; an unknown version is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import runtimes
from app.config import Settings
from app.protocol import RunRequest
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner

INSTALLED = runtimes.installed(Settings())
pytestmark = pytest.mark.skipif(len(INSTALLED) < 2, reason="make setup installs the runtimes")

PROBE = (
    "import sys, jax, jaxlib, os\n"
    "print(jax.__version__, jaxlib.__version__, '%d.%d' % sys.version_info[:2])\n"
)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = Settings(max_concurrent=2, state_dir=str(tmp_path_factory.mktemp("runtimes")),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    shared = Runner(config)
    shared.start()
    yield shared
    shared.close()


def test_only_the_default_runtime_starts_with_the_runner(runner: Runner) -> None:
    rows = {row["id"]: row for row in runner.status()["runtimes"]}
    assert set(rows) == {r.id for r in INSTALLED}
    assert rows[INSTALLED[0].id]["default"] and rows[INSTALLED[0].id]["started"]
    # No run asked for the others yet (this test runs first in the module).
    assert not any(row["started"] for rid, row in rows.items() if rid != INSTALLED[0].id)


@pytest.mark.parametrize("runtime", INSTALLED, ids=[r.id for r in INSTALLED])
def test_a_run_runs_on_the_runtime_it_names_and_says_so(runner: Runner,
                                                        runtime: runtimes.Runtime) -> None:
    result = runner.run(RunRequest(code=PROBE, jax=runtime.id, timeout_s=60))
    assert result.status == "ok", result
    jax_version, jaxlib_version, python = result.stdout.split()[:3]
    assert (jax_version, jaxlib_version) == (runtime.jax, runtime.jaxlib)
    assert python in runtime.python
    assert result.runtime is not None
    assert (result.runtime.id, result.runtime.jax, result.runtime.jaxlib) == (
        runtime.id, runtime.jax, runtime.jaxlib)
    assert result.runtime.python.startswith(python + ".")
    # The same sandbox: the layers the default runtime's runs have are active here too.
    default = runner.run(RunRequest(code="print(1)"))
    assert result.sandbox == default.sandbox


def test_no_request_names_the_default_the_newest(runner: Runner) -> None:
    result = runner.run(RunRequest(code="import jax\nprint(jax.__version__)"))
    assert result.stdout == f"{INSTALLED[0].jax}\n"
    assert result.runtime is not None and result.runtime.id == INSTALLED[0].id


def test_a_version_this_server_lacks_is_refused_with_the_ones_it_has(runner: Runner) -> None:
    result = runner.run(RunRequest(code="print(1)", jax="0.0.1"))
    assert result.status == "rejected"
    assert "JAX '0.0.1' is not available on this server" in result.message
    assert all(r.id in result.message for r in INSTALLED)


def test_each_started_runtime_shows_its_pool_and_what_it_holds(runner: Runner) -> None:
    for runtime in INSTALLED:
        assert runner.run(RunRequest(code="print(2)", jax=runtime.id)).status == "ok"
    rows = {row["id"]: row for row in runner.status()["runtimes"]}
    for runtime in INSTALLED:
        row = rows[runtime.id]
        assert row["started"] and row["zygote_ready"] and row["zygote_threads"] == 1
        assert row["versions"]["jax"] == runtime.jax
        assert row["pool_memory_mb"] >= 0
