"""Choosing the runner (PLAYGROUND_RUNNER_URL), its settings, and what the status shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.config import load, shown_value
from app.runner import factory
from app.runner.api.interface import RunnerInterface
from app.runner.remote.client import RemoteRunner, _parse_result
from app.runner.remote.queue import HostEntry, Snapshot
from app.runner.remote.status import summarize


def test_the_url_must_name_a_redis() -> None:
    assert load({"PLAYGROUND_RUNNER_URL": "redis://redis:6379/0"}).runner_url == \
        "redis://redis:6379/0"
    assert load({}).runner_url == ""  # the default: this host's own runner
    with pytest.raises(ValueError, match="PLAYGROUND_RUNNER_URL"):
        load({"PLAYGROUND_RUNNER_URL": "http://redis:6379/0"})
    with pytest.raises(ValueError, match="PLAYGROUND_HOST_TTL_S"):
        load({"PLAYGROUND_HOST_TTL_S": "0.2"})


def test_the_system_page_never_shows_the_password() -> None:
    config = load({"PLAYGROUND_RUNNER_URL": "redis://:s3cret@redis:6379/0"})
    assert shown_value(config, "runner_url") == "redis://:***@redis:6379/0"
    assert shown_value(replace(config, hosted=True), "runner_url") == "set"
    assert shown_value(config, "timeout_s") == config.timeout_s
    database = load({"PLAYGROUND_DATABASE_URL": "postgresql+psycopg://app:pw@db:5432/rooms"})
    assert shown_value(database, "database_url") == "postgresql+psycopg://app:***@db:5432/rooms"


def test_the_sandbox_side_never_gets_the_redis_url() -> None:
    config = load({"PLAYGROUND_RUNNER_URL": "redis://:s3cret@redis:6379/0"})
    assert config.for_runs().runner_url == ""


def test_get_runner_picks_the_remote_runner_by_url(redis_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = replace(load({}), runner_url=redis_server.url(3))
    monkeypatch.setattr(factory, "load_settings", lambda: config)
    monkeypatch.setattr(factory, "_runner", None)
    chosen = factory.get_runner()
    try:
        assert isinstance(chosen, RemoteRunner) and isinstance(chosen, RunnerInterface)
        assert factory.get_runner() is chosen  # one per process
        assert chosen.status()["runner"] == "remote"
    finally:
        chosen.close()


def test_a_malformed_result_from_a_host_is_crashed_not_an_exception() -> None:
    assert _parse_result({"status": "ok", "stdout": "x"}).stdout == "x"
    for bad in (None, "text", {"status": "exploded"}, {"stdout": 1}):
        assert _parse_result(bad).status == "crashed"


def test_status_folds_the_hosts_into_the_local_shape() -> None:
    cpu = {"platform": "cpu", "device_kind": "cpu", "device_count": 8, "slots": 2,
           "runs_total": 5, "ttl_s": 5.0, "layers": {"net_ns": True, "seccomp": True},
           "limits": {"timeout_s": 10.0}}
    gpu = {**cpu, "platform": "gpu", "device_kind": "H100", "device_count": 1, "slots": 1,
           "layers": {"net_ns": True, "seccomp": False}}
    snapshot = Snapshot(0.0, queued=3, live_hosts=2, hosts=[
        HostEntry("a", cpu, ttl_left_ms=4000, runs=1), HostEntry("b", gpu, 4500, 1)])
    info = summarize(snapshot, load({}))
    assert (info.platform, info.device_count, info.idle, info.running,
            info.queued, info.runs_total) == ("cpu, gpu", 9, 1, 2, 3, 10)
    assert info.layers == {"net_ns": True, "seccomp": False}  # only what every host has
    assert info.limits["max_concurrent"] == 3 and info.limits["timeout_s"] == 10.0
    assert info.hosts is not None
    assert [row.heartbeat_age_s for row in info.hosts] == [1.0, 0.5]


def test_a_host_status_without_fields_still_makes_a_row() -> None:
    info = summarize(Snapshot(0.0, 0, 1, [HostEntry("odd", {}, 100, 0)]), load({}))
    assert info.hosts is not None
    assert info.hosts[0].platform == "?" and info.hosts[0].heartbeat_age_s is None


def test_a_heartbeat_field_of_the_wrong_type_counts_as_absent() -> None:
    odd = {"slots": True, "device_count": "8", "runs_total": -3, "platform": "cpu"}
    info = summarize(Snapshot(0.0, 0, 1, [HostEntry("odd", odd, 100, 0)]), load({}))
    assert info.hosts is not None
    row = info.hosts[0]
    assert (row.slots, row.device_count, row.runs_total, row.platform) == (0, None, 0, "cpu")
