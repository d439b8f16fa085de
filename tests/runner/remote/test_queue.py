"""The run queue's functions (app/runner/remote/playground.lua) against a real Redis, without
worker processes: fair order, positions, busy, the rate window, leases, lost hosts, cancel.
The end-to-end behaviour with real hosts is in test_cluster.py and test_host_loss.py."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
import redis

from app.config import load
from app.protocol import RunResult
from app.runner.remote import keys
from app.runner.remote.connection import connect
from app.runner.remote.queue import LIBRARY, VERSION, ClientRules, RedisQueue
from app.runner.supervisor import client_limits
from app.runner.supervisor.fairness import FairShare, fair_order

INBOX = keys.inbox("test-replica")
CRASHED = RunResult(status="crashed", message="host lost")
CANCELLED = RunResult(status="cancelled", message="stopped")


@pytest.fixture
def q(redis_server) -> Iterator[RedisQueue]:  # type: ignore[no-untyped-def]
    client = connect(redis_server.url(0))
    client.flushdb()
    yield RedisQueue(client)
    client.close()


def live(q: RedisQueue, host: str, ttl_s: float = 60.0, leases: dict[str, str] | None = None,
         stale_s: float = 60.0, slots: int = 1) -> list[str]:
    return q.heartbeat(host, {"slots": slots, "ttl_s": ttl_s}, ttl_s, stale_s, CRASHED,
                       leases or {})


def submit(q: RedisQueue, run_id: str, session: str = "", queue_size: int = 10_000,
           fair: bool = True, owner: str = INBOX, key: str | None = None,
           rules: ClientRules | None = None, jax: str = ""):  # type: ignore[no-untyped-def]
    """key: whom the run counts against (default: its session, as when not hosted)."""
    return q.submit(run_id, owner, session, session if key is None else key,
                    json.dumps({"code": run_id}), queue_size, fair, ttl_s=600,
                    rules=rules or ClientRules(), jax=jax)


def inbox_events(q: RedisQueue, owner: str = INBOX) -> list[dict]:
    return [json.loads(raw) for raw in q.redis.lrange(owner, 0, -1)]


@dataclass
class Run:
    name: str
    fair_tag: float


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fair", [True, False])
def test_claims_follow_the_local_fair_order(q: RedisQueue, seed: int, fair: bool) -> None:
    """Arrivals and claims interleaved at random, checked step by step against
    app.runner.supervisor.fairness (what the local supervisor uses): the same run starts next."""
    rng = random.Random(seed)
    share = FairShare()
    waiting: list[Run] = []
    live(q, "h1")
    sessions = ["alice", "bob", "carol", "dave", ""]  # "": no session (CLI, bench)
    claimed = 0
    for step in range(400):
        if rng.random() < 0.55:
            session = rng.choice(sessions)
            name = f"r{step}"
            waiting.append(Run(name, share.tag((session or None) if fair else None)))
            assert submit(q, name, session, fair=fair).kind == "queued"
        elif waiting:
            expected = fair_order(waiting)[0]
            waiting.remove(expected)
            share.started(expected.fair_tag)
            got = q.claim("h1", "lease")
            assert got is not None and got.run_id == expected.name, step
            claimed += 1
        # The positions a waiting person sees are the places in that same order.
        if waiting and step % 25 == 0:
            order = [run.name for run in fair_order(waiting)]
            members = {name: q.redis.hget(keys.run(name), "member") for name in order}
            assert q.positions([members[name] for name in order]) == list(
                range(1, len(order) + 1))
    assert claimed > 100


def run_to_the_end(q: RedisQueue, run_id: str, lease: str) -> None:
    """A claimed run, started and finished by its host."""
    assert q.start(run_id, lease, CANCELLED)
    assert q.pipeline_calls([q.finish_call(run_id, lease, RunResult(status="ok"))]) == [1]


@dataclass
class Keyed:
    name: str
    client_key: str | None
    fair_tag: float
    jax: str = ""  # the JAX runtime it needs ("": any)


VERSIONS = ["", "", "0.4.38", "0.12.1"]  # what runs ask for ("": the host's default)
RUNTIMES = [("0.12.1", "0.10.2"), ("0.4.38",), ("0.12.1", "0.10.2", "0.4.38")]  # what hosts have


@pytest.mark.parametrize(("seed", "hosted", "queued_per_client", "reserved_slots"), [
    (1, False, 0, 0),  # no per-client rules: the fair order alone
    (2, True, 0, 0),  # the hosted defaults: 4 waiting per client, a quarter of the slots kept
    (3, False, 2, 1),
    (4, True, 1, 2),
    (5, False, 3, 3),
    (6, True, 2, 0),
])
def test_claims_follow_the_local_client_limits(q: RedisQueue, seed: int, hosted: bool,
                                               queued_per_client: int,
                                               reserved_slots: int) -> None:
    """Issue 9 item 4 across hosts: arrivals, claims by hosts with a free slot, finishes, stops
    of queued runs and hosts joining at random, checked step by step against
    app.runner.supervisor.client_limits over the local fair order (what the local supervisor does):
    the same run is refused ("full"), held back (a kept slot), or started, with the cluster's slots
    and runs executing as Redis counts them."""
    rng = random.Random(seed)
    settings = replace(load({}), hosted=hosted, queued_per_client=queued_per_client,
                       reserved_slots=reserved_slots)
    rules = ClientRules.of(settings)
    cap = client_limits.queued_per_client(settings)
    queue_size = 12
    slots: dict[str, int] = {}  # host -> its slots
    held: dict[str, list[Keyed]] = {}  # host -> the runs it executes
    has: dict[str, tuple[str, ...]] = {}  # host -> the JAX runtimes it has

    def join() -> None:
        host = f"h{len(slots)}"
        slots[host], held[host], has[host] = rng.randint(1, 3), [], rng.choice(RUNTIMES)
        live(q, host, slots=slots[host])

    join()
    share = FairShare()
    waiting: list[Keyed] = []
    seen: Counter[str] = Counter()
    for step in range(500):
        roll = rng.random()
        if roll < 0.4:
            key = rng.choice(["alice", "bob", "carol", ""])  # "": no key (CLI, bench)
            jax = rng.choice(VERSIONS)
            name, client_key = f"r{step}", key or None
            if len(waiting) >= queue_size:
                expected = "busy"
            elif client_limits.queue_full(client_key, waiting, cap):
                expected = "full"
            else:
                expected = "queued"
                waiting.append(Keyed(name, client_key, share.tag(client_key), jax))
            got = submit(q, name, f"tab-{step}", queue_size=queue_size, key=key, rules=rules,
                         jax=jax)
            assert got.kind == expected, step
            seen[expected] += 1
        elif roll < 0.7:
            free_hosts = [host for host in slots if len(held[host]) < slots[host]]
            if not free_hosts:
                continue
            host = rng.choice(free_hosts)
            # The host sees only the runs it can run, in the fair order; the rules are the same.
            order = [run for run in fair_order(waiting) if not run.jax or run.jax in has[host]]
            kept = client_limits.reserved_slots(settings, sum(slots.values()))
            seen["claims with kept slots"] += bool(kept)
            start = client_limits.next_to_start(
                order, Counter(run.client_key for runs in held.values() for run in runs),
                sum(slots[h] - len(held[h]) for h in slots), kept)
            claimed = q.claim(host, f"L-{host}", has[host])
            assert (claimed and claimed.run_id) == (start and start.name), step
            if order and start is not order[0]:
                seen["held back"] += 1
            seen["passed over for their version"] += bool(waiting) and (
                fair_order(waiting)[0] not in order)
            if start is not None:
                waiting.remove(start)
                share.started(start.fair_tag)
                held[host].append(start)
        elif roll < 0.87:
            busy_hosts = [host for host in slots if held[host]]
            if not busy_hosts:
                continue
            host = rng.choice(busy_hosts)
            run = held[host].pop(rng.randrange(len(held[host])))
            run_to_the_end(q, run.name, f"L-{host}")
        elif roll < 0.96:
            if not waiting:
                continue
            run = waiting.pop(rng.randrange(len(waiting)))  # its person pressed Stop
            assert q.cancel(run.name, f"tab-{run.name[1:]}", CANCELLED)
            share.withdrawn(run.client_key, run.fair_tag)  # as the supervisor's cancel
        elif len(slots) < 4:
            join()
    # Not vacuous: each rule in force refused or held back some runs.
    assert seen["queued"] > 80, seen
    assert bool(seen["full"]) == bool(cap), seen
    assert bool(seen["held back"]) == bool(seen["claims with kept slots"]), seen
    assert seen["passed over for their version"] > 5, seen


def test_a_host_claims_only_runs_for_the_jax_it_has(q: RedisQueue) -> None:
    """A run asking for a JAX version goes only to a host naming it in its claim; it keeps its
    place in the fair order for such a host. A run asking for none goes to any host."""
    live(q, "new")
    live(q, "old")
    submit(q, "a1", "a", jax="0.4.38")
    submit(q, "b1", "b", jax="0.12.1")
    submit(q, "c1", "c")
    submit(q, "d1", "d", jax="0.4.38")
    new = ("0.12.1", "0.10.2")
    assert [q.claim("new", f"L{n}", new).run_id for n in range(2)] == ["b1", "c1"]
    assert q.claim("new", "L2", new) is None  # a1 and d1 wait for a host with 0.4.38
    assert q.claim("new", "L3") is None  # a host naming no runtime gets none of them either
    assert q.positions([q.redis.hget(keys.run(r), "member") for r in ("a1", "d1")]) == [1, 2]
    assert [q.claim("old", f"L{n}", ["0.4.38"]).run_id for n in range(2)] == ["a1", "d1"]
    assert q.redis.zcard(keys.QUEUE) == 0


def test_sessions_of_one_client_share_its_cap_and_leave_the_kept_slot(q: RedisQueue) -> None:
    """As hosted replicas submit them: tabs of one client are one limit key, at most 2 waiting
    whichever tab; a client with a run executing leaves the cluster's last free slot (a quarter
    of 2 slots kept) to another client; a host joining makes room for it."""
    rules = ClientRules(queued_per_client=2, hosted=True)

    def tab(run: str, client: str) -> str:
        return submit(q, run, f"tab-{run}", key=client, rules=rules).kind

    live(q, "h1")
    live(q, "h2")
    assert [tab("a1", "A"), tab("a2", "A"), tab("a3", "A")] == ["queued", "queued", "full"]
    assert [tab("b1", "B"), tab("c1", "C")] == ["queued", "queued"]  # other clients: their own
    assert q.claim("h1", "L").run_id == "a1"
    assert tab("a3", "A") == "queued"  # one of A's left the queue: room for one more
    assert q.claim("h2", "L").run_id == "b1"  # fair order: b1, c1, a2, a3
    run_to_the_end(q, "b1", "L")
    assert q.claim("h2", "L").run_id == "c1"
    run_to_the_end(q, "c1", "L")
    assert q.claim("h2", "L") is None  # a2 is next, but A has a1 executing: h2's slot is kept
    live(q, "h3")  # 3 slots, 1 kept, 2 free (h2, h3): one for A
    assert q.claim("h3", "L").run_id == "a2"
    assert q.claim("h2", "L") is None  # a3: 1 free, kept
    assert tab("d1", "D") == "queued"
    assert q.claim("h2", "L").run_id == "d1"  # behind a3, but D has none executing
    run_to_the_end(q, "a1", "L")
    assert q.claim("h1", "L") is None  # A still has a2 executing; the one free slot is kept
    run_to_the_end(q, "a2", "L")
    assert q.claim("h1", "L").run_id == "a3"  # A has none executing: any free slot


def test_a_lost_host_s_slots_and_runs_no_longer_count(q: RedisQueue) -> None:
    rules = ClientRules(reserved_slots=1)
    for host in ("h1", "h2", "h3"):
        live(q, host)
    for run, client in (("a1", "A"), ("b1", "B"), ("a2", "A")):
        submit(q, run, f"tab-{run}", key=client, rules=rules)
    assert [q.claim("h1", "L").run_id, q.claim("h2", "L").run_id] == ["a1", "b1"]
    assert q.claim("h3", "L") is None  # A has a1 executing; the one free slot is kept
    q.redis.delete(keys.host("h1"))  # its heartbeat expired: lost, not yet reaped
    assert q.claim("h3", "L").run_id == "a2"  # a1 is lost with it: A has none executing


def test_a_claim_drops_entries_whose_record_expired(q: RedisQueue) -> None:
    live(q, "h1")
    for n in range(40):  # more than one page of the queue
        submit(q, f"r{n}")
    for n in range(39):
        q.redis.delete(keys.run(f"r{n}"))  # as when a replica died and the records expired
    assert q.claim("h1", "L").run_id == "r39"
    assert q.redis.zcard(keys.QUEUE) == 0
    assert q.claim("h1", "L") is None


def test_a_session_with_many_queued_runs_takes_turns(q: RedisQueue) -> None:
    live(q, "h1")
    for name in ["a1", "a2", "a3"]:
        submit(q, name, "a")
    assert submit(q, "b1", "b").position == 2  # b's first run goes ahead of a's second
    assert [q.claim("h1", "x").run_id for _ in range(4)] == ["a1", "b1", "a2", "a3"]


def test_busy_counts_every_replica_and_host(q: RedisQueue) -> None:
    live(q, "h1")
    assert submit(q, "r1", owner=keys.inbox("A"), queue_size=2).kind == "queued"
    assert submit(q, "r2", owner=keys.inbox("B"), queue_size=2).kind == "queued"
    busy = submit(q, "r3", owner=keys.inbox("A"), queue_size=2)
    assert (busy.kind, busy.waiting, busy.running) == ("busy", 2, 0)
    q.claim("h1", "x")
    assert submit(q, "r3", owner=keys.inbox("A"), queue_size=2).kind == "queued"
    busy = submit(q, "r4", owner=keys.inbox("B"), queue_size=2)
    assert (busy.kind, busy.waiting, busy.running) == ("busy", 2, 1)


def test_a_run_id_is_taken_once(q: RedisQueue) -> None:
    first = submit(q, "same")
    assert submit(q, "same").member == first.member  # a retried call: the same entry
    assert submit(q, "same", owner=keys.inbox("other")).kind == "exists"


def test_only_a_live_host_claims(q: RedisQueue) -> None:
    submit(q, "r1")
    assert q.claim("nobody", "x") is None
    live(q, "h1")
    claimed = q.claim("h1", "x")
    assert claimed is not None and claimed.run_id == "r1"
    assert json.loads(claimed.request) == {"code": "r1"}


def test_start_then_result_reach_the_owner_once(q: RedisQueue) -> None:
    live(q, "h1")
    submit(q, "r1")
    q.claim("h1", "L1")
    assert not q.start("r1", "wrong lease", CANCELLED)
    assert q.start("r1", "L1", CANCELLED)
    done = RunResult(status="ok", stdout="hi\n")
    assert q.pipeline_calls([q.emit_call("r1", "L1", ['{"event":"output","id":"r1"}']),
                             q.finish_call("r1", "L1", done)]) == [1, 1]
    assert q.pipeline_calls([q.finish_call("r1", "L1", done)]) == [0]  # never twice
    assert q.pipeline_calls([q.emit_call("r1", "L1", ["late"])]) == [0]
    events = inbox_events(q)
    assert [e["event"] for e in events] == ["running", "output", "result"]
    assert events[-1]["result"]["stdout"] == "hi\n"
    assert q.redis.hget(keys.run("r1"), "state") == "done"
    assert q.redis.ttl(keys.run("r1")) > 0  # the marker goes after a while


def test_a_lost_host_s_claimed_run_is_queued_again_in_its_place(q: RedisQueue) -> None:
    live(q, "dies", ttl_s=1.0)
    live(q, "h2")
    for name, session in [("a1", "a"), ("b1", "b"), ("a2", "a")]:
        submit(q, name, session)
    assert q.claim("dies", "L").run_id == "a1"  # claimed, never started
    assert q.claim("dies", "L").run_id == "b1"
    assert q.start("b1", "L", CANCELLED)  # started: this one cannot be run again
    time.sleep(1.2)  # the heartbeat key expires
    assert q.reap(CRASHED, CANCELLED)[:3] == (1, 1, 1)
    assert q.claim("h2", "L2").run_id == "a1"  # back at the front, ahead of a2
    results = [e for e in inbox_events(q) if e["event"] == "result"]
    assert [(e["id"], e["result"]["status"]) for e in results] == [("b1", "crashed")]
    # The lost host comes back: its late result and its lease are refused.
    assert q.pipeline_calls([q.finish_call("b1", "L", RunResult(status="ok"))]) == [0]
    assert not q.start("a1", "L", CANCELLED)
    assert sorted(live(q, "dies", leases={"b1": "L", "a1": "L"})) == ["a1", "b1"]


def test_a_claim_whose_reply_was_lost_is_queued_again(q: RedisQueue) -> None:
    live(q, "h1")
    submit(q, "r1")
    assert q.claim("h1", "L") is not None
    assert live(q, "h1", leases={}, stale_s=60.0) == []  # too recent to judge
    time.sleep(0.05)
    live(q, "h1", leases={}, stale_s=0.01)  # the host does not know it: queued again
    assert q.redis.hget(keys.run("r1"), "state") == "queued"
    assert q.claim("h1", "L2").run_id == "r1"


def test_queue_wait_expiry_and_a_claim_never_both_win(q: RedisQueue) -> None:
    live(q, "h1")
    submit(q, "r1")
    submit(q, "r2")
    q.claim("h1", "L")
    busy = RunResult(status="busy", message="waited")
    assert not q.expire("r1", busy)  # claimed first: its host answers
    assert q.expire("r2", busy)
    assert q.claim("h1", "L") is None
    results = [e for e in inbox_events(q) if e["event"] == "result"]
    assert [(e["id"], e["result"]["status"]) for e in results] == [("r2", "busy")]


def test_cancel_only_by_its_session_and_wherever_the_run_is(q: RedisQueue) -> None:
    live(q, "h1")
    for name in ["r_running", "r_claimed", "r_queued"]:
        submit(q, name, "owner-session")
    assert q.claim("h1", "L").run_id == "r_running"
    assert q.start("r_running", "L", CANCELLED)
    assert q.claim("h1", "L").run_id == "r_claimed"
    assert not q.cancel("r_queued", "someone-else", CANCELLED)
    assert not q.cancel("no-such-run", "owner-session", CANCELLED)
    assert q.cancel("r_queued", "owner-session", CANCELLED)  # queued: ends at once
    assert not q.cancel("r_queued", "owner-session", CANCELLED)  # and only once
    assert q.cancel("r_claimed", "owner-session", CANCELLED)  # claimed: refused at start
    assert not q.start("r_claimed", "L", CANCELLED)
    assert q.cancel("r_running", "", CANCELLED)  # running (no session given: the operator)
    control = [json.loads(m) for m in q.redis.lrange(keys.host_control("h1"), 0, -1)]
    assert {"op": "cancel", "id": "r_running"} in control
    results = {e["id"]: e["result"]["status"] for e in inbox_events(q)
               if e["event"] == "result"}
    assert results == {"r_queued": "cancelled", "r_claimed": "cancelled"}  # running: its host


def test_abandon_tells_the_host_and_ends_the_run(q: RedisQueue) -> None:
    live(q, "h1")
    submit(q, "r1")
    q.claim("h1", "L")
    q.start("r1", "L", CANCELLED)
    assert q.abandon("r1", RunResult(status="crashed", message="no answer"))
    assert not q.abandon("r1", RunResult(status="crashed"))
    control = [json.loads(m) for m in q.redis.lrange(keys.host_control("h1"), 0, -1)]
    assert control == [{"op": "cancel", "id": "r1"}]
    assert q.pipeline_calls([q.finish_call("r1", "L", RunResult(status="ok"))]) == [0]


def test_the_rate_window_is_shared_and_slides(q: RedisQueue) -> None:
    assert [q.rate("s1", 2, 0.5) for _ in range(2)] == [0.0, 0.0]
    wait = q.rate("s1", 2, 0.5)  # a third start within the window: wait for the oldest
    assert 0.0 < wait <= 0.5
    assert q.rate("s2", 2, 0.5) == 0.0  # per session
    time.sleep(wait + 0.05)
    assert q.rate("s1", 2, 0.5) == 0.0


def test_the_library_comes_back_after_redis_lost_it(q: RedisQueue) -> None:
    submit(q, "r1")
    q.redis.function_flush()  # as after a restart without persistence
    assert submit(q, "r2").kind == "queued"
    with pytest.raises(redis.ResponseError):
        q.redis.fcall("pg_no_such_function", 0)


def test_another_version_of_the_library_is_replaced_on_first_use(redis_server) -> None:  # type: ignore[no-untyped-def]
    client = connect(redis_server.url(0))
    try:
        client.flushdb()
        client.function_load(LIBRARY.replace(VERSION, "an-older-one"), replace=True)
        assert client.fcall("pg_version", 0) == "an-older-one"
        assert submit(RedisQueue(client), "r1").kind == "queued"
        assert client.fcall("pg_version", 0) == VERSION
    finally:
        client.close()


def test_the_epoch_changes_only_when_redis_loses_the_queue(q: RedisQueue) -> None:
    first = submit(q, "r1").epoch
    assert submit(q, "r2").epoch == first == q.reap(CRASHED, CANCELLED)[3]
    q.redis.flushdb()  # as a restart without persistence
    assert q.reap(CRASHED, CANCELLED)[3] != first


def test_snapshot_lists_live_hosts_with_their_status(q: RedisQueue) -> None:
    live(q, "h1", ttl_s=30)
    live(q, "h2", ttl_s=30)
    submit(q, "r1")
    submit(q, "r2")
    q.claim("h1", "L")
    snapshot = q.snapshot()
    assert (snapshot.queued, snapshot.live_hosts) == (1, 2)
    by_host = {entry.host: entry for entry in snapshot.hosts}
    assert by_host["h1"].runs == 1 and by_host["h2"].runs == 0
    assert by_host["h1"].status["slots"] == 1
    assert 0 < by_host["h1"].ttl_left_ms <= 30_000
