"""What the hosted demo's per-client rules cost inside Redis (app/runner/remote/playground.lua).

    .venv/bin/python bench/remote_client_rules.py [--sizes 16,256,1024] [--calls 200]

The queue cap walks the queue at submit (a client's waiting runs are counted), and a claim walks
it in fair order until a run may start (a kept slot holds back runs of clients with one
executing). Both are O(queued runs) and block Redis meanwhile; the queue is at most
PLAYGROUND_QUEUE_SIZE (16 by default). For each queue size, with a private redis-server (unix
socket), p50 over --calls calls of:
  - a claim that walks the whole queue and takes nothing (every run's client has one executing,
    the one free slot is kept): the worst case;
  - a submit refused by the cap after counting every queued run;
  - a submit with no cap (no walk), for comparison.
Prints figures; asserts nothing on time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.protocol import RunResult  # noqa: E402
from app.runner.remote.connection import connect  # noqa: E402
from app.runner.remote.queue import ClientRules, RedisQueue  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

REQUEST = json.dumps({"code": "x" * 2000})  # a typical snippet's size
KEPT = ClientRules(reserved_slots=1)


def p50_ms(call: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(q: RedisQueue, size: int, calls: int) -> str:
    q.redis.flushdb()
    for host in ("h1", "h2"):  # two slots, one kept
        q.heartbeat(host, {"slots": 1, "ttl_s": 600}, 600, 600, RunResult(status="crashed"), {})

    def submit(run_id: str, key: str, rules: ClientRules = KEPT) -> str:
        return q.submit(run_id, "pg:inbox:bench", run_id, key, REQUEST, 10**6, True, 600,
                        rules=rules).kind

    submit("first", "A")
    assert q.claim("h1", "L") is not None  # client A has a run executing
    for i in range(size):
        submit(f"a{i}", "A")

    def held_back_claim() -> None:
        assert q.claim("h2", "L") is None

    counter = iter(range(10**9))

    def refused_submit() -> None:
        assert submit(f"r{next(counter)}", "A", ClientRules(queued_per_client=1)) == "full"

    def plain_submit() -> None:
        assert submit(f"p{next(counter)}", "", ClientRules()) == "queued"

    claim = p50_ms(held_back_claim, calls)
    refused = p50_ms(refused_submit, calls)
    plain = p50_ms(plain_submit, calls)  # last: it grows the queue
    return (f"{size:>5} queued: claim walking all, none taken {claim:.3f} ms; submit refused "
            f"by the cap {refused:.3f} ms; submit without a cap {plain:.3f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="16,256,1024")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        server = RedisServer(Path(tmp))
        client = connect(server.url(0))
        try:
            q = RedisQueue(client)
            print("p50 per call, request -> reply over a unix socket:")
            for size in (int(s) for s in args.sizes.split(",")):
                print(measure(q, size, args.calls), flush=True)
        finally:
            client.close()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
