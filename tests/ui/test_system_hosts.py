"""The System page with the remote runner: a row per worker host (platform, slots, queue,
heartbeat age), from a real RemoteRunner's status over a private Redis."""

from __future__ import annotations

from dataclasses import replace

from streamlit.testing.v1 import AppTest

from app.config import load
from app.protocol import RunResult
from app.runner.remote.client import RemoteRunner
from app.runner.remote.connection import connect
from app.runner.remote.queue import RedisQueue

GPU_HOST = {"platform": "gpu", "jax": "0.10.2", "device_kind": "NVIDIA H200", "device_count": 1,
            "slots": 2, "queued": 0, "runs_total": 41, "ttl_s": 5.0, "pid": 1,
            "layers": {"net_ns": True, "seccomp": True}, "notes": [], "limits": {}}


def _show(status: dict) -> None:  # type: ignore[type-arg]
    from app.runner.api.status import RunnerStatus
    from app.ui.pages.system import _show_runner, show_hosts

    typed = RunnerStatus.read(status)
    _show_runner(typed)
    show_hosts(typed)


def _status_with_hosts(url: str, hosts: dict[str, dict]) -> dict:  # type: ignore[type-arg]
    client = connect(url)
    client.flushdb()
    queue = RedisQueue(client)
    for name, status in hosts.items():  # as each worker host's heartbeat publishes it
        queue.heartbeat(name, status, 5.0, 60.0, RunResult(status="crashed"), {})
    client.close()
    runner = RemoteRunner(replace(load({}), runner_url=url))
    try:
        return runner.status()
    finally:
        runner.close()


def test_every_worker_host_has_a_row(redis_server) -> None:  # type: ignore[no-untyped-def]
    status = _status_with_hosts(redis_server.url(0), {
        "gpu-box-1": GPU_HOST, "gpu-box-2": {**GPU_HOST, "runs_total": 7}})
    at = AppTest.from_function(_show, args=(status,)).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "last heartbeat (s ago)" in d.value.columns)
    assert sorted(table["host"]) == ["gpu-box-1", "gpu-box-2"]
    assert list(table["slots"]) == [2, 2] and sorted(table["runs"]) == [7, 41]
    assert all(0 <= age < 5 for age in table["last heartbeat (s ago)"])
    assert list(table["JAX"]) == ["0.10.2", "0.10.2"]
    assert "GPU" in " ".join(m.value for m in at.markdown)
    assert any(m.label == "idle" and m.value == "4" for m in at.metric)


def test_no_worker_host_is_said_plainly(redis_server) -> None:  # type: ignore[no-untyped-def]
    status = _status_with_hosts(redis_server.url(0), {})
    at = AppTest.from_function(_show, args=(status,)).run()
    assert "No worker host is connected" in " ".join(w.value for w in at.warning)


def test_an_unreachable_queue_is_an_error_line_not_a_trace() -> None:
    runner = RemoteRunner(replace(load({}), runner_url="unix:///nonexistent/redis.sock?db=0"))
    try:
        status = runner.status()
    finally:
        runner.close()
    at = AppTest.from_function(_show, args=(status,)).run()
    assert not at.exception
    assert "cannot be reached" in " ".join(e.value for e in at.error)


def test_a_malformed_status_is_one_error_not_garbage_on_the_page() -> None:
    # A field of the wrong type (notes as a string, a count as a bool) is the runner's mistake:
    # the page says so once, instead of showing a note per letter or "True" idle children.
    at = AppTest.from_function(_show, args=({"platform": "cpu", "notes": "oops",
                                             "idle": True},)).run()
    assert not at.exception
    assert [e.value for e in at.error] and "malformed" in at.error[0].value
    assert not [i.value for i in at.info if i.value in "oops"]
