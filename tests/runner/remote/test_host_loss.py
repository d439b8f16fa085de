"""Losing a worker host or Redis, for real: SIGSTOP/SIGCONT and SIGKILL of a host's process
group, and Redis killed and started again. Tests run in file order: the SIGKILL test leaves one
host, which the Redis test uses.

A lost host's run ends "crashed" because its heartbeat expired: while the host is still stopped
(SIGSTOP), or once it is dead (SIGKILL). How long that took is printed (pytest -s; the bound is
the heartbeat TTL + 1 s), not asserted: bench/remote.py measures it."""

from __future__ import annotations

import signal
import time

from app.runner.platform import state_dir
from app.runner.remote import keys
from app.runner.remote.connection import connect
from app.runner.remote.queue import RedisQueue
from tests.runner.remote.hosts import TTL_S, Cluster, HostProcess, wait_gone
from tests.runner.remote.test_cluster import HOLD, Background, assert_nothing_in_flight, request


def holder(cluster: Cluster, run: Background) -> HostProcess:
    client = connect(cluster.url)
    try:
        host_id = client.hget(keys.run(str(run.request.run_id)), "host")
    finally:
        client.close()
    return next(host for host in cluster.hosts if host.host_id == host_id)


def host_status(cluster: Cluster, host: HostProcess) -> dict:
    client = connect(cluster.url)
    try:
        entries = RedisQueue(client).snapshot().hosts
    finally:
        client.close()
    return next((e.status for e in entries if e.host == host.host_id), {})


def test_a_stopped_host_s_run_ends_crashed_and_its_late_result_is_ignored(
        cluster: Cluster) -> None:
    results_before = cluster.runner.counters["results"]
    stray_before = cluster.runner.counters["events_without_waiter"]
    run = Background(cluster.runner, request(HOLD.format(s=2.5)))
    assert run.running.wait(60)
    stopped = holder(cluster, run)
    stopped.signal_group(signal.SIGSTOP)
    since = time.monotonic()
    try:
        meanwhile = cluster.runner.run(request("print('meanwhile')"))  # the other host
        result = run.wait(TTL_S + 30)
        elapsed = time.monotonic() - since
    finally:
        stopped.signal_group(signal.SIGCONT)
    print(f"SIGSTOP -> crashed: {elapsed:.2f} s (TTL {TTL_S:g} s)")
    assert meanwhile.status == "ok" and meanwhile.stdout == "meanwhile\n"
    assert result.status == "crashed" and "stopped answering" in result.message
    # Back after SIGCONT: its run finished there meanwhile; Redis refused that late result.
    deadline = time.monotonic() + 30
    while host_status(cluster, stopped).get("late_results_ignored", 0) < 1:
        assert time.monotonic() < deadline, stopped.log()
        time.sleep(0.2)
    assert cluster.runner.counters["results"] - results_before == 2
    assert cluster.runner.counters["events_without_waiter"] == stray_before
    # And it serves again: two runs at once take both hosts.
    both = [Background(cluster.runner, request(HOLD.format(s=0.5))) for _ in range(2)]
    assert [b.wait().status for b in both] == ["ok", "ok"]
    assert_nothing_in_flight(cluster.url)


def test_sigkill_of_a_host_s_process_group_ends_its_run_and_leaves_nothing(
        cluster: Cluster) -> None:
    run = Background(cluster.runner, request(HOLD.format(s=5)))
    assert run.running.wait(60)
    victim = holder(cluster, run)
    tree = victim.tree()
    supervisor = next(p for p in tree if "app.runner.supervisor" in " ".join(p.cmdline()))
    scratch = state_dir(cluster.runner.settings) / f"runs-{supervisor.pid}"
    others = [Background(cluster.runner, request(f"print({n})")) for n in range(3)]
    victim.signal_group(signal.SIGKILL)
    since = time.monotonic()
    result = run.wait(TTL_S + 30)
    elapsed = time.monotonic() - since
    print(f"SIGKILL -> crashed: {elapsed:.2f} s (TTL {TTL_S:g} s)")
    assert result.status == "crashed" and "stopped answering" in result.message
    assert [(o.wait().status, o.wait().stdout) for o in others] == [
        ("ok", f"{n}\n") for n in range(3)]
    assert_nothing_in_flight(cluster.url)
    assert not wait_gone(tree), "the killed host's supervisor, zygote or runs are still there"
    assert not scratch.exists()
    cluster.hosts.remove(victim)
    assert victim.host_id not in [row["host"] for row in cluster.runner.status()["hosts"]]


def test_a_redis_that_lost_the_queue_unnoticed_ends_the_waiting_runs(cluster: Cluster) -> None:
    """A restart the client rode over (it reconnects without an error), or a flush: the queue's
    epoch changed, so the runs waiting here were lost and end at once, not after minutes."""
    running = Background(cluster.runner, request(HOLD.format(s=2)))
    assert running.running.wait(60)
    queued = Background(cluster.runner, request("print('queued')"))
    assert queued.queued.wait(30)
    client = connect(cluster.url)
    client.flushall()
    client.close()
    for result in (running.wait(10), queued.wait(10)):
        assert result.status == "crashed" and "restarted and lost this run" in result.message
    back = cluster.runner.run(request("print('back')"))  # the host registers again by itself
    assert (back.status, back.stdout) == ("ok", "back\n"), back.message


def test_redis_killed_and_started_again(cluster: Cluster, redis_server) -> None:  # type: ignore[no-untyped-def]
    running = Background(cluster.runner, request(HOLD.format(s=3)))
    assert running.running.wait(60)
    queued = Background(cluster.runner, request("print('queued')"))
    assert queued.queued.wait(30)
    redis_server.kill()
    for result in (running.wait(30), queued.wait(30)):
        assert result.status == "crashed"
        assert "run queue (Redis) cannot be reached" in result.message
    while_down = cluster.runner.run(request("print(1)"))
    assert while_down.status == "crashed" and "cannot be reached" in while_down.message
    assert "error" in cluster.runner.status()
    redis_server.start()  # empty: no persistence
    # Neither the app's runner nor the host is restarted: the next run just works.
    back = cluster.runner.run(request("print('back')"))
    assert (back.status, back.stdout) == ("ok", "back\n"), back.message
    assert len(cluster.runner.status()["hosts"]) == 1
