"""Two worker hosts (one slot each, real sandbox) serve app replicas through a private Redis, as
deployed: `python -m app worker-host --redis redis://127.0.0.1:PORT/0 --slots 1`.

Order of events is asserted, never durations (the box is shared)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.protocol import OutputChunk, RunRequest, RunResult
from app.runner.remote import keys
from app.runner.remote.client import RemoteRunner
from app.runner.remote.connection import connect
from app.runner.supervisor.fairness import FairShare, fair_order
from app.runner.supervisor.outcome import UNQUEUED_MESSAGE
from tests.runner.remote.hosts import Cluster, in_flight, replica

HOLD = "import time\ntime.sleep({s})\n"


class Background:
    """One run on its own thread, with the updates it received (in order)."""

    def __init__(self, runner: RemoteRunner, request: RunRequest) -> None:
        self.request = request
        self.updates: list[tuple[str, Any]] = []
        self.result: RunResult | None = None
        self.queued = threading.Event()
        self.running = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(runner,), daemon=True)
        self.thread.start()

    def _run(self, runner: RemoteRunner) -> None:
        self.result = runner.run(self.request, self._update)

    def _update(self, kind: str, value: Any) -> None:
        self.updates.append((kind, value))
        (self.queued if kind == "queued" else self.running if kind == "running" else
         threading.Event()).set()

    def wait(self, timeout: float = 120.0) -> RunResult:
        self.thread.join(timeout)
        assert self.result is not None, "the run never ended"
        return self.result

    def last_position(self) -> int | None:
        positions = [value for kind, value in self.updates if kind == "queued"]
        return positions[-1] if positions else None


def request(code: str, session: str | None = None, **kwargs: Any) -> RunRequest:
    return RunRequest(code=code, session_id=session, run_id=uuid.uuid4().hex, **kwargs)


def hold_both_slots(runner: RemoteRunner, seconds: float) -> list[Background]:
    holds = [Background(runner, request(HOLD.format(s=seconds))) for _ in range(2)]
    for hold in holds:
        assert hold.running.wait(60), hold.updates
    return holds


def assert_nothing_in_flight(url: str) -> None:
    """No run queued, held by a host or unfinished in Redis (results are delivered first)."""
    deadline = time.monotonic() + 10
    while True:
        state = in_flight(url)
        if state.queued == 0 and not state.held and not state.unfinished:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still in flight: {state}")
        time.sleep(0.1)


@dataclass
class Case:
    code: str
    expect: str
    session: str
    timeout_s: float | None = None
    runs: list[Background] = field(default_factory=list)


def test_two_hosts_serve_one_runner_and_every_run_gets_exactly_one_result(
        cluster: Cluster) -> None:
    before = dict(cluster.runner.counters)
    cases = [
        Case(HOLD.format(s=0.8), "ok", "alice"),
        Case(HOLD.format(s=0.8), "ok", "bob"),
        Case(HOLD.format(s=0.8), "ok", "carol"),
        Case("print('hi')", "ok", "alice"),
        Case("1 / 0", "error", "bob"),
        Case("while True:\n    pass\n", "timeout", "carol", timeout_s=1.0),
        Case("import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n", "ok", "alice"),
        Case("import os\nos._exit(3)\n", "crashed", "bob"),
    ]
    runs = [Background(cluster.runner, request(c.code, c.session, timeout_s=c.timeout_s))
            for c in cases]
    results = [run.wait() for run in runs]
    assert [r.status for r in results] == [c.expect for c in cases], \
        [(r.status, r.message) for r in results]
    assert results[3].stdout == "hi\n" and results[6].stdout == "3\n"
    assert results[4].error is not None and results[4].error.type == "ZeroDivisionError"
    # Both hosts served; each run's events reached its waiter and nothing arrived for nobody.
    rows = cluster.runner.status()["hosts"]
    assert len(rows) == 2 and all(row["runs_total"] > 0 for row in rows), rows
    counters = cluster.runner.counters
    assert counters["results"] - before.get("results", 0) == len(cases)
    assert counters["events_without_waiter"] == before.get("events_without_waiter", 0)
    assert_nothing_in_flight(cluster.url)


def test_dispatch_order_and_positions_are_the_local_fair_order(cluster: Cluster) -> None:
    holds = hold_both_slots(cluster.runner, 4.0)
    arrivals = ["a1", "a2", "a3", "b1", "b2", "c1"]
    runs: dict[str, Background] = {}
    for name in arrivals:  # one after the other: the arrival order is known
        runs[name] = Background(cluster.runner, request("print(1)", session=name[0]))
        assert runs[name].queued.wait(30)
    # The reference: the order the local supervisor would start them in
    # (app.runner.supervisor.fairness).
    share = FairShare()
    fair = [run.name for run in fair_order([_Tagged(n, share.tag(n[0])) for n in arrivals])]
    assert fair == ["a1", "b1", "c1", "a2", "b2", "a3"]
    time.sleep(0.8)  # a few position refreshes (every 0.25 s)
    if all(hold.thread.is_alive() for hold in holds):  # nothing started yet: positions settled
        positions = {name: runs[name].last_position() for name in arrivals}
        assert sorted(arrivals, key=lambda name: positions[name] or 0) == fair, positions
        assert sorted(p for p in positions.values() if p) == [1, 2, 3, 4, 5, 6]
    for run in [*holds, *runs.values()]:
        assert run.wait().status == "ok"
    client = connect(cluster.url)
    claimed = {name: int(client.hget(keys.run(str(run.request.run_id)), "claimed_us"))
               for name, run in runs.items()}
    client.close()
    assert sorted(arrivals, key=claimed.__getitem__) == fair


@dataclass
class _Tagged:
    name: str
    fair_tag: float


def test_streamed_chunks_arrive_in_order_before_the_result(cluster: Cluster) -> None:
    code = ("import sys, time\n"
            "for i in range(12):\n"
            "    print('out', i, flush=True)\n"
            "    if i % 3 == 0:\n"
            "        print('err', i, file=sys.stderr, flush=True)\n"
            "    time.sleep(0.05)\n")
    run = Background(cluster.runner, request(code, "streamer"))
    result = run.wait()
    assert result.status == "ok", result.message
    kinds = [kind for kind, _ in run.updates]
    assert kinds[0] == "queued" and "running" in kinds
    chunks: list[OutputChunk] = [value for kind, value in run.updates if kind == "output"]
    assert kinds.index("running") < kinds.index("output")
    assert "".join(c.text for c in chunks if c.stream == "stdout") == result.stdout
    assert "".join(c.text for c in chunks if c.stream == "stderr") == result.stderr
    assert len(chunks) > 2  # streamed while it ran, not in one piece at the end
    # Both streams, interleaved as the run printed them (a chunk may end mid-line).
    assert joined(chunks) == joined(result.output)


def joined(chunks: list[OutputChunk]) -> list[tuple[str, str]]:
    """Chunks with adjacent pieces of one stream joined: the text in order, however it was cut."""
    out: list[tuple[str, str]] = []
    for chunk in chunks:
        if out and out[-1][0] == chunk.stream:
            out[-1] = (chunk.stream, out[-1][1] + chunk.text)
        else:
            out.append((chunk.stream, chunk.text))
    return out


def test_streaming_keeps_the_output_cap(cluster: Cluster) -> None:
    flood = "import sys\nfor _ in range(600):\n    sys.stdout.write('x' * 4096 + '\\n')\n"
    run = Background(cluster.runner, request(flood, "flooder"))
    result = run.wait()
    assert result.status == "output_limit", result.message
    streamed = "".join(value.text for kind, value in run.updates if kind == "output")
    assert streamed == result.stdout  # the same text as the local runner gives, mark included
    printed, mark, _ = streamed.partition("\n[output truncated")
    assert mark and 0 < len(printed.encode()) <= cluster.runner.settings.output_bytes


def test_cancel_a_queued_and_a_running_run(cluster: Cluster) -> None:
    hold = Background(cluster.runner, request(HOLD.format(s=3), "other"))
    running = Background(cluster.runner, request(HOLD.format(s=25), "owner"))
    assert hold.running.wait(60) and running.running.wait(60)
    queued = Background(cluster.runner, request("print('never')", "owner"))
    assert queued.queued.wait(30)
    assert not cluster.runner.cancel(str(queued.request.run_id), "someone-else")
    assert cluster.runner.cancel(str(queued.request.run_id), "owner")
    result = queued.wait(10)
    assert (result.status, result.message, result.stdout) == ("cancelled", UNQUEUED_MESSAGE, "")
    assert not cluster.runner.cancel(str(running.request.run_id), "someone-else")
    assert cluster.runner.cancel(str(running.request.run_id), "owner")
    result = running.wait(20)
    assert result.status == "cancelled", result.message
    assert hold.wait().status == "ok"
    assert not cluster.runner.cancel(str(running.request.run_id), "owner")  # over: nothing
    assert_nothing_in_flight(cluster.url)


def test_the_rate_limit_holds_across_replicas(cluster: Cluster) -> None:
    with replica(cluster.url, rate_per_minute=3) as a, replica(cluster.url, rate_per_minute=3) as b:
        assert [r.status for r in (a.run(request("print(1)", "ratey")),
                                    b.run(request("print(1)", "ratey")),
                                    a.run(request("print(1)", "ratey")))] == ["ok"] * 3
        refused = b.run(request("print(1)", "ratey"))
        assert refused.status == "rejected"
        assert "at most 3 runs per minute" in refused.message and "Try again in" in refused.message
        assert a.run(request("print(1)", "someone-else")).status == "ok"


def test_hosted_replicas_count_a_client_not_its_sessions(cluster: Cluster) -> None:
    """Issue 9, item 4, across replicas: in hosted mode a new browser session of the same
    address shares that address's rate; another address has its own."""
    with replica(cluster.url, rate_per_minute=2, hosted=True) as a, \
            replica(cluster.url, rate_per_minute=2, hosted=True) as b:
        tabs = [request("print(1)", f"tab-{i}", client_id="198.51.100.7") for i in range(3)]
        assert [a.run(tabs[0]).status, b.run(tabs[1]).status] == ["ok", "ok"]
        refused = a.run(tabs[2])
        assert refused.status == "rejected" and "for each address" in refused.message
        other = request("print(1)", "tab-0", client_id="198.51.100.8")
        assert b.run(other).status == "ok"


def test_hosted_tabs_of_one_client_keep_to_its_cap_and_leave_the_kept_slot(
        cluster: Cluster) -> None:
    """Issue 9, item 4, across replicas and hosts (the Redis queue applies client_limits): with
    two hosts of one slot, hosted mode keeps one slot (a quarter, at least one) for clients with
    none executing. One address's tabs on two replicas: its first run takes a slot, its next two
    wait although a slot is free, its fourth is refused at once (2 waiting, counted over both
    replicas); another address's run, queued behind them (first come, first served here, so
    the order alone would start them first), takes the kept slot. When the address's first run
    ends, its waiting runs start, one at a time."""
    address, other = "203.0.113.10", "203.0.113.11"
    hosted = {"hosted": True, "queued_per_client": 2, "rate_per_minute": 1000,
              "fair_queue": False}
    with replica(cluster.url, **hosted) as a, replica(cluster.url, **hosted) as b:
        first = Background(a, request(HOLD.format(s=60), "tab-1", client_id=address, timeout_s=30))
        assert first.running.wait(60), first.updates
        waiting = [Background(runner, request(f"print({i})", f"tab-{i}", client_id=address))
                   for i, runner in ((2, b), (3, a))]
        for run in waiting:
            assert run.queued.wait(30) and run.result is None
        refused = b.run(request("print(4)", "tab-4", client_id=address))
        assert refused.status == "rejected" and "2 runs waiting" in refused.message, refused
        elsewhere = b.run(request("print('other')", "tab-1", client_id=other))
        assert (elsewhere.status, elsewhere.stdout) == ("ok", "other\n"), elsewhere
        # Had a waiting run taken the free slot, it would have run before that one (ahead of it
        # in the queue, on the one free host).
        assert first.result is None and not any(run.running.is_set() for run in waiting)
        assert a.cancel(str(first.request.run_id), "tab-1")
        assert first.wait().status == "cancelled"
        assert [(r.status, r.stdout) for r in (run.wait() for run in waiting)] == [
            ("ok", "2\n"), ("ok", "3\n")]
    assert_nothing_in_flight(cluster.url)


def test_a_run_nobody_takes_ends_busy_and_says_why(redis_server) -> None:  # type: ignore[no-untyped-def]
    with replica(redis_server.url(5), queue_wait_s=1.0) as lonely:  # DB 5: no host there
        result = lonely.run(request("print(1)"))
    assert result.status == "busy"
    assert "no worker host is connected" in result.message


def test_status_lists_every_worker_host(cluster: Cluster) -> None:
    info = cluster.runner.status()
    rows = info["hosts"]
    assert sorted(row["host"] for row in rows) == sorted(h.host_id for h in cluster.hosts)
    for row in rows:
        assert row["platform"] == "cpu" and row["slots"] == 1
        assert 0 <= row["heartbeat_age_s"] < 3.0
    assert info["platform"] == "cpu" and info["limits"]["max_concurrent"] == 2
    assert info["layers"] and info["running_supervisor"] is True
    assert "redis://127.0.0.1:" in info["redis"]


def test_hosts_announce_their_jax_runtimes_and_a_version_none_has_ends_clearly(
        cluster: Cluster) -> None:
    from app import runtimes
    from app.config import Settings

    installed = [r.id for r in runtimes.installed(Settings())]
    deadline = time.monotonic() + 60
    hosts: list[dict[str, Any]] = []
    while time.monotonic() < deadline:  # the first heartbeats may predate the local status
        hosts = cluster.runner.status().get("hosts", [])
        if hosts and all(h.get("runtimes") for h in hosts):
            break
        time.sleep(0.2)
    assert hosts and all(h["runtimes"] == (installed or [""]) for h in hosts), hosts
    missing = cluster.runner.run(request("print(1)", jax="0.0.3"))
    assert missing.status == "rejected"
    assert "JAX '0.0.3' is not available on any worker host" in missing.message
    if installed:
        there = cluster.runner.run(request("import jax\nprint(jax.__version__)", jax=installed[-1]))
        assert there.status == "ok", there
        assert there.runtime is not None and there.runtime.id == installed[-1]
        assert there.stdout == f"{there.runtime.jax}\n"
