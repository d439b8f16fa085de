"""`python -m app bench`: the runner's figures, with the naive baseline measured in the same run.

Prints p50/p95 latency (request -> result) of a trivial JAX snippet through the Runner and through
a fresh `python -c` per run, their ratio, sustained runs/s with concurrent clients, and the memory
of the idle pool (supervisor + zygote + preforked children). Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import psutil

from app.bench.measure import SNIPPET, percentile, throughput, wait_idle
from app.config import settings as load_settings
from app.protocol import RunRequest
from app.runner.api.runner import Runner
from app.runner.platform import REPO_ROOT

MIB = 1 << 20


def runner_latencies(runner: Runner, runs: int, jax: str | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = runner.run(RunRequest(code=SNIPPET, jax=jax))
        times.append(time.perf_counter() - start)
        if result.status != "ok" or result.stdout != "3\n":
            raise RuntimeError(f"bench run failed: {result.status} {result.message}")
    return times


def baseline_latencies(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", SNIPPET], check=True, capture_output=True,
                       cwd=str(REPO_ROOT))
        times.append(time.perf_counter() - start)
    return times


def pool_memory(supervisor_pid: int) -> dict[str, float]:
    """RSS (counts shared pages once per process) and PSS (shares them out) of the pool, MiB."""
    root = psutil.Process(supervisor_pid)
    procs = [root, *root.children(recursive=True)]
    rss = pss = 0.0
    for proc in procs:
        try:
            rss += proc.memory_info().rss
            pss += getattr(proc.memory_full_info(), "pss", 0.0)
        except psutil.Error:
            continue
    return {"processes": len(procs), "rss_mib": rss / MIB, "pss_mib": pss / MIB}


def runtime_part(runner: Runner, runs: int) -> None:
    """Per JAX runtime: trivial-run latency (the runtimes taken in turn, so the host's load
    falls on each alike) and the memory of its zygote and waiting children."""
    ids = [row["id"] for row in runner.status().get("runtimes", [])]
    if len(ids) < 2:
        return
    times: dict[str, list[float]] = {v: [] for v in ids}
    for version in ids:  # start each runtime's zygote and pool first
        runner_latencies(runner, 2, version)
    wait_idle(runner)
    for _ in range(runs):
        for version in ids:
            times[version] += runner_latencies(runner, 1, version)
    info = wait_idle(runner, timeout=60.0)
    rows = {row["id"]: row for row in info.get("runtimes", [])}
    for version in ids:
        row = rows.get(version, {})
        p50, p95 = percentile(times[version], 50), percentile(times[version], 95)
        memory = pool_memory(int(row["zygote_pid"])) if row.get("zygote_pid") else None
        held = (f"zygote + {row.get('children_waiting')} waiting: RSS {memory['rss_mib']:.0f} "
                f"MiB, PSS {memory['pss_mib']:.0f} MiB" if memory else "no zygote")
        default = " (default)" if row.get("default") else ""
        print(f"JAX {version}{default}: trivial run p50 {p50 * 1000:.0f} ms, p95 "
              f"{p95 * 1000:.0f} ms over {len(times[version])} runs; {held}")


def bench_command(args: argparse.Namespace) -> int:
    runner = Runner(load_settings())
    try:
        t0 = time.perf_counter()
        runner.start()
        startup = time.perf_counter() - t0
        info = wait_idle(runner)
        print(f"platform {info.get('platform')}, max_concurrent "
              f"{info['limits']['max_concurrent']}, prefork {info['limits']['prefork']}, "
              f"start-up {startup:.1f} s, warm-up {info.get('warm')}")
        first = time.perf_counter()
        runner_latencies(runner, 1)
        print(f"first run after start-up: {(time.perf_counter() - first) * 1000:.0f} ms")
        runner_latencies(runner, 2)  # first runs after start: page cache, pool fill
        wait_idle(runner)
        latencies = runner_latencies(runner, args.runs)
        baseline = baseline_latencies(args.baseline_runs)
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        b50, b95 = percentile(baseline, 50), percentile(baseline, 95)
        print(f"runner   latency over {len(latencies)} runs: p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms")
        print(f"baseline latency over {len(baseline)} runs (`python -c` per run): "
              f"p50 {b50 * 1000:.0f} ms, p95 {b95 * 1000:.0f} ms")
        print(f"ratio (baseline p50 / runner p50): {b50 / p50:.1f}x")
        rate, ok, other = throughput(runner, args.clients, args.seconds)
        print(f"throughput with {args.clients} clients for {args.seconds:g} s: "
              f"{rate:.1f} runs/s ({ok} ok, {other} not ok)")
        info = wait_idle(runner, timeout=60.0, shrunk=True)
        print(f"preforked child preparation (fork, sandbox, backend start) p50: "
              f"{info.get('child_prepare_ms_p50')} ms; by phase: "
              f"{info.get('child_prepare_phases_ms_p50')}")
        pid = info.get("supervisor_pid")
        if pid:
            memory = pool_memory(int(pid))
            print(f"idle pool ({memory['processes']:.0f} processes: supervisor, zygote, "
                  f"{info.get('idle')} preforked): RSS {memory['rss_mib']:.0f} MiB, "
                  f"PSS {memory['pss_mib']:.0f} MiB")
        runtime_part(runner, getattr(args, "runtime_runs", 15))
        if args.gpu:
            from app.bench.gpu_figures import gpu_part

            gpu_part(runner, args)
    finally:
        runner.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} cores, load average {load} (other work skews the figures)")
    return 0
