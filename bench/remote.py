"""Remote runner benchmark: what the trip through Redis to a worker host costs, what more hosts
give, and how fast a lost host's run is answered.

    .venv/bin/python bench/remote.py [--runs 60] [--batch 8] [--max-hosts 3] [--kills 3]

In one run, on this machine, with a private redis-server (unix socket) and real worker hosts
(`python -m app worker-host`, one slot each, every sandbox layer as configured):
  1. latency, request -> result, of `import jax.numpy as jnp; print(jnp.arange(3).sum())`, one
     run at a time, through a local Runner (one slot) and through a RemoteRunner with one host,
     alternating in blocks of 10 so both see the same load; p50 / p95 of each, and what the
     remote path itself adds (target: <= 5 ms p50): per remote run, request -> result at the
     replica less the host's own call of its local Runner for that run (that host runs in this
     process for the measurement, so both clocks are one);
  2. throughput of `time.sleep(0.5)` runs with 1, 2, ... --max-hosts hosts: --batch runs per
     slot sent at once, runs/s from the first send to the last result, against the ideal
     hosts x slots / 0.5 s (target: within 10%), and against a local Runner with as many slots
     measured just before (the same machine's own ceiling: on one box every host shares its
     cores, so the local figure is what the machine gives, with no Redis in between);
  3. time from SIGKILL of a host's process group (during a `time.sleep(5)` run) to the run's
     `crashed` result, --kills times, with the default heartbeat TTL (PLAYGROUND_HOST_TTL_S).
Prints figures; asserts nothing on time.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRIVIAL = "import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"
SLEEP = "import time\ntime.sleep({s})\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(runner, code: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(request -> result, the same less the run's own duration: what the way there costs)."""
    from app.protocol import RunRequest

    start = time.perf_counter()
    result = runner.run(RunRequest(code=code))
    elapsed = time.perf_counter() - start
    if result.status != "ok":
        raise RuntimeError(f"{result.status}: {result.message}")
    return elapsed, elapsed - result.duration_s


def latency(local, remote, runs: int) -> dict[str, list[tuple[float, float]]]:  # type: ignore[no-untyped-def]
    for runner in (local, remote):  # warm: pools ready, compilation cache read
        for _ in range(3):
            timed(runner, TRIVIAL)
    times: dict[str, list[tuple[float, float]]] = {"local": [], "remote": []}
    block = 10
    for index in range(0, runs, block):
        order = [("local", local), ("remote", remote)]
        for name, runner in order if index // block % 2 == 0 else reversed(order):
            times[name] += [timed(runner, TRIVIAL) for _ in range(min(block, runs - index))]
    return times


class TimedHost:
    """A worker host in this process, whose calls of its local Runner are timed per run."""

    def __init__(self, url: str, config) -> None:  # type: ignore[no-untyped-def]
        from app.runner.remote.host import WorkerHost

        self.host = WorkerHost(url, slots=1, config=config, warm_snippets=False)
        self.local_s: list[float] = []
        call = self.host.local.run

        def timed_call(request, on_update=None):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return call(request, on_update)
            finally:
                self.local_s.append(time.perf_counter() - start)

        self.host.local.run = timed_call  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.host.serve, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 300
        while not self._registered():
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the worker host in this process did not start")
            time.sleep(0.1)

    def _registered(self) -> bool:
        return any(e.status.get("pid") == os.getpid() for e in self.host.queue.snapshot().hosts)

    def stop(self) -> None:
        self.host.stop()
        self.thread.join(60)


def throughput(remote, runs: int, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """runs/s for `runs` sleeps sent at once."""
    from app.protocol import RunRequest

    failures: list[str] = []

    def one() -> None:
        result = remote.run(RunRequest(code=SLEEP.format(s=seconds)))
        if result.status != "ok":
            failures.append(f"{result.status}: {result.message}")

    threads = [threading.Thread(target=one) for _ in range(runs)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} runs failed: {failures[:3]}")
    return runs / elapsed


def kill_to_crashed(remote, url: str, log_dir: Path, hosts: list) -> float:  # type: ignore[no-untyped-def]
    """SIGKILL the group of the host running a sleep(5); seconds until its result is crashed."""
    from app.protocol import RunRequest
    from app.runner.remote import keys
    from app.runner.remote.connection import connect

    done: dict[str, object] = {}
    running = threading.Event()
    request = RunRequest(code=SLEEP.format(s=5), run_id=f"kill-{time.monotonic_ns()}")

    def run() -> None:
        done["result"] = remote.run(request, lambda kind, _value: kind == "running"
                                    and running.set())
        done["at"] = time.perf_counter()

    thread = threading.Thread(target=run)
    thread.start()
    if not running.wait(60):
        raise RuntimeError("the run never started")
    client = connect(url)
    holder = client.hget(keys.run(str(request.run_id)), "host")
    client.close()
    victim = next(h for h in hosts if h.host_id == holder)
    killed = time.perf_counter()
    victim.signal_group(signal.SIGKILL)
    thread.join()
    hosts.remove(victim)
    result = done["result"]
    if getattr(result, "status", None) != "crashed":
        raise RuntimeError(f"expected crashed, got {result}")
    return float(done["at"]) - killed  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="latency runs per runner")
    parser.add_argument("--batch", type=int, default=8, help="sleep runs per slot, at once")
    parser.add_argument("--max-hosts", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()

    from app.config import load
    from app.runner.api.runner import Runner
    from app.runner.remote.client import RemoteRunner
    from tests.redis_server import RedisServer
    from tests.runner.remote.hosts import HostProcess, start_hosts

    config = load()
    with tempfile.TemporaryDirectory(prefix="remote-bench-") as tmp:
        server = RedisServer(Path(tmp))
        url = server.url(0)
        logs = Path(tmp)
        hosts: list[HostProcess] = []
        local = Runner(replace(config, max_concurrent=1))
        remote = RemoteRunner(replace(config, runner_url=url, queue_size=256,
                                      queue_wait_s=120.0, rate_per_minute=0))
        try:
            local.start()
            print(f"load average {os.getloadavg()[0]:.1f}; redis-server {url}; worker hosts: "
                  f"1 slot each, heartbeat TTL {config.host_ttl_s:g} s; local Runner: 1 slot")
            timed_host = TimedHost(url, config)
            try:
                timed_host.local_s.clear()
                times = latency(local, remote, args.runs)
                host_calls = timed_host.local_s[-len(times["remote"]):]
            finally:
                timed_host.stop()
            for name, pairs in times.items():
                total = [t for t, _ in pairs]
                print(f"{name:>6}: p50 {statistics.median(total) * 1000:.1f} ms, p95 "
                      f"{percentile(total, 0.95) * 1000:.1f} ms ({len(total)} runs)")
            added = [t - call for (t, _), call in zip(times["remote"], host_calls, strict=True)]
            print(f"the remote path itself (request -> result less the host's local Runner "
                  f"call): p50 {statistics.median(added) * 1000:.2f} ms, p95 "
                  f"{percentile(added, 0.95) * 1000:.2f} ms")
            local.close()
            for count in range(1, args.max_hosts + 1):
                if len(hosts) < count:
                    hosts += start_hosts(url, logs, count - len(hosts), ttl_s=config.host_ttl_s)
                baseline = Runner(replace(config, max_concurrent=count, queue_size=256))
                try:
                    baseline.start()
                    rate_local = throughput(baseline, args.batch * count, 0.5)
                finally:
                    baseline.close()
                rate = throughput(remote, args.batch * count, 0.5)
                ideal = count / 0.5
                print(f"{count} host(s): {rate:.2f} runs/s of sleep(0.5), {rate / ideal:.0%} of "
                      f"the ideal {ideal:.1f}; a local Runner with {count} slot(s): "
                      f"{rate_local:.2f} runs/s ({rate / rate_local:.2f}x)")
            losses = []
            for _ in range(args.kills):
                losses.append(kill_to_crashed(remote, url, logs, hosts))
                hosts += start_hosts(url, logs, 1, ttl_s=config.host_ttl_s)
            print("SIGKILL of a host's group -> crashed: "
                  + ", ".join(f"{s:.2f} s" for s in losses)
                  + f" (TTL {config.host_ttl_s:g} s, heartbeat every {config.host_ttl_s / 4:g} s)")
        finally:
            remote.close()
            local.close()
            for host in hosts:
                host.stop()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
