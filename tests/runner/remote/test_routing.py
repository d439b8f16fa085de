"""Runs go to a worker host that has their JAX version: two real hosts with different runtimes
(each a PLAYGROUND_RUNTIMES_DIR holding links to some of the installed runtime venvs), one app
replica. A run for a version only one host has waits for that host, however idle the other is;
when that host leaves, the run still waiting ends with the clear message."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app import runtimes
from app.config import load
from app.protocol import RunRequest, RunResult
from app.runner.remote.client import RemoteRunner
from tests.runner.remote.hosts import HostProcess, alive, replica, wait_gone

NEW = ("0.12.1", "0.10.2")
OLD = ("0.4.38",)
VERSION = "import jax\nimport time\ntime.sleep({s})\nprint(jax.__version__)\n"


@dataclass
class Routed:
    runner: RemoteRunner
    new: HostProcess
    old: HostProcess


@dataclass
class Background:
    """A run in its own thread; `running` is set when a host started it."""

    runner: RemoteRunner
    request: RunRequest
    running: threading.Event = field(default_factory=threading.Event)
    result: RunResult | None = None

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        def update(kind: str, _value: object) -> None:
            if kind == "running":
                self.running.set()

        self.result = self.runner.run(self.request, update)

    def wait(self, timeout: float = 240) -> RunResult:
        self.thread.join(timeout)
        assert self.result is not None, "the run never ended"
        return self.result


def run_for(runner: RemoteRunner, jax: str, sleep_s: float = 0) -> Background:
    return Background(runner, RunRequest(code=VERSION.format(s=sleep_s), jax=jax,
                                         run_id=uuid.uuid4().hex, timeout_s=60))


def linked(where: Path, ids: tuple[str, ...]) -> Path:
    """A runtimes folder holding links to some of the installed runtimes' venvs."""
    installed = runtimes.runtimes_dir(load())
    where.mkdir()
    for runtime_id in ids:
        (where / runtime_id).symlink_to(installed / runtime_id)
    return where


def announced(runner: RemoteRunner) -> dict[str, list[str]]:
    return {row["host"]: row.get("runtimes") for row in runner.status().get("hosts", [])}


@pytest.fixture(scope="module")
def routed(redis_server, tmp_path_factory) -> Iterator[Routed]:  # type: ignore[no-untyped-def]
    have = {r.id for r in runtimes.installed(load())}
    if not set(NEW + OLD) <= have:
        pytest.skip(f"needs the runtimes {NEW + OLD} installed (make setup); found {have}")
    url, tmp = redis_server.url(0), tmp_path_factory.mktemp("routing")
    hosts = [HostProcess(url, tmp, env={"PLAYGROUND_RUNTIMES_DIR": str(linked(tmp / name, ids))})
             for name, ids in (("new", NEW), ("old", OLD))]
    trees = []
    try:
        for host in hosts:
            host.wait_ready()
        # Long enough that a run ends only through routing, never by its queue wait.
        with replica(url, queue_wait_s=600.0) as runner:
            deadline = time.monotonic() + 120
            while announced(runner) != {hosts[0].host_id: list(NEW),
                                       hosts[1].host_id: list(OLD)}:
                assert time.monotonic() < deadline, announced(runner)
                time.sleep(0.2)
            yield Routed(runner, *hosts)
    finally:
        trees = [process for host in hosts for process in host.tree()]
        for host in hosts:
            host.stop()
    assert not wait_gone(trees), alive(trees)


def runs_total(runner: RemoteRunner, host: HostProcess) -> int:
    return next(int(row["runs_total"]) for row in runner.status()["hosts"]
                if row["host"] == host.host_id)


def test_runs_go_to_a_host_with_their_jax_version(routed: Routed) -> None:
    runner = routed.runner
    # The old host busy: the next run for its version waits for it, though the new one is idle.
    first = run_for(runner, "0.4.38", sleep_s=2)
    assert first.running.wait(240)
    old = [first] + [run_for(runner, "0.4.38") for _ in range(2)]
    new = [run_for(runner, jax) for jax in ("0.12.1", "0.10.2", "0.12.1")]
    for run, jax in [(r, "0.4.38") for r in old] + list(zip(new, ("0.12.1", "0.10.2", "0.12.1"),
                                                            strict=True)):
        result = run.wait()
        assert result.status == "ok", result
        assert result.runtime is not None and result.runtime.id == jax
        assert result.stdout == f"{result.runtime.jax}\n"
    deadline = time.monotonic() + 30  # the counts come with the next heartbeats
    while (runs_total(runner, routed.old), runs_total(runner, routed.new)) != (3, 3):
        assert time.monotonic() < deadline, runner.status()["hosts"]
        time.sleep(0.2)


def test_a_run_whose_only_host_left_ends_clearly(routed: Routed) -> None:
    """Last in this module: the old host leaves."""
    runner = routed.runner
    busy = run_for(runner, "0.4.38", sleep_s=3)
    assert busy.running.wait(240)
    waiting = run_for(runner, "0.4.38")
    routed.old.process.send_signal(signal.SIGTERM)  # finishes the run in flight, then leaves
    assert busy.wait().status == "ok"
    result = waiting.wait()
    assert result.status == "rejected", result
    assert "JAX '0.4.38' is not available on any worker host" in result.message
    assert "0.12.1" in result.message
    assert routed.old.process.wait(60) == 0
    new = run_for(runner, "0.12.1").wait()  # the other host serves on
    assert new.status == "ok", new
