"""One cluster per test module: a private Redis (tests/conftest.py), two worker hosts with one
slot each, an app replica; at the end every host leaves cleanly and nothing of it is left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runner.remote.hosts import Cluster, replica, start_hosts, wait_gone


@pytest.fixture(scope="module")
def cluster(redis_server, tmp_path_factory) -> Iterator[Cluster]:  # type: ignore[no-untyped-def]
    url = redis_server.url(0)
    hosts = start_hosts(url, tmp_path_factory.mktemp("hosts"), count=2)
    with replica(url) as runner:
        yield Cluster(url, hosts, runner)
    trees = [process for host in hosts for process in host.tree()]
    for host in hosts:
        host.stop()
    codes = [host.process.returncode for host in hosts]
    assert codes == [0] * len(hosts), [host.log() for host in hosts]
    assert not wait_gone(trees), "a worker host left processes behind"
