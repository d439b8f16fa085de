"""`python -m app bench --gpu`: the accelerator figures and their targets, after the usual ones.

In one run, through one Runner with the host's default settings: trivial-run latency (request ->
result) with runs spaced apart and back to back, the children's preparation p50 and its phases,
runs/s with 4 and 16 clients, and the 4096x4096 matmul snippet run twice in one session (the
second loads what the first compiled from the session's cache layer), then lightly edited (XLA's
autotuning results come from the layer; the program is compiled again). Each figure is printed
beside its target. It runs on a CPU host too (the matmul is then slow), which
gives the CPU column of the same table.
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from app.bench.measure import SNIPPET, percentile, throughput, wait_idle
from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner

MATMUL = "import jax.numpy as jnp\nx = jnp.ones((4096, 4096))\nprint(float((x @ x)[0, 0]))\n"
EDITED = ("import jax.numpy as jnp\nx = jnp.ones((4096, 4096)) * 2.0\n"
          "print(float((x @ x)[0, 0]))\n")
TARGETS = {  # the GPU path's targets, on an H200 host
    "trivial p50": 0.120,
    "second matmul": 0.400,
    "16 clients": 15.0,
}


def _timed(runner: Runner, request: RunRequest) -> tuple[float, RunResult]:
    start = time.perf_counter()
    result = runner.run(request)
    return time.perf_counter() - start, result


def _latencies(runner: Runner, runs: int, spacing_s: float) -> tuple[list[float], list[str]]:
    times: list[float] = []
    statuses: list[str] = []
    for _ in range(runs):
        if spacing_s:
            time.sleep(spacing_s)
        elapsed, result = _timed(runner, RunRequest(code=SNIPPET))
        times.append(elapsed)
        statuses.append(result.status)
    return times, statuses


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(met: bool) -> str:
    return "meets the target" if met else "MISSES the target"


def gpu_part(runner: Runner, args: argparse.Namespace) -> dict[str, Any]:
    """Measure and print; returns the figures (for tests and scripts)."""
    figures: dict[str, Any] = {}
    info = wait_idle(runner)
    print(f"== accelerator figures: platform {info.get('platform')}, "
          f"{info.get('device_count')} x {info.get('device_kind')}, zygote threads "
          f"{info.get('zygote_threads')} (1: fork-safe), session cache "
          f"{(info.get('session_cache') or {}).get('state')}")
    for key, value in (info.get("policy") or {}).items():
        print(f"   policy: {key}: {value}")
    spaced, s_statuses = _latencies(runner, args.gpu_runs, args.spacing)
    back, b_statuses = _latencies(runner, args.gpu_runs, 0.0)
    figures.update(spaced_p50=percentile(spaced, 50), spaced_p95=percentile(spaced, 95),
                   back_p50=percentile(back, 50), back_p95=percentile(back, 95))
    print(f"trivial run, request -> result, {args.spacing:g} s apart: p50 "
          f"{_ms(figures['spaced_p50'])}, p95 {_ms(figures['spaced_p95'])}; back to back: "
          f"p50 {_ms(figures['back_p50'])}, p95 {_ms(figures['back_p95'])} "
          f"({_verdict(figures['spaced_p50'] <= TARGETS['trivial p50'])}: "
          f"p50 <= {_ms(TARGETS['trivial p50'])})")
    info = wait_idle(runner)
    figures["prepare_p50_ms"] = info.get("child_prepare_ms_p50")
    print(f"child preparation p50: {figures['prepare_p50_ms']} ms; by phase (ms, p50): "
          f"{info.get('child_prepare_phases_ms_p50')}")
    for clients in (4, 16):
        rate, ok, other = throughput(runner, clients, args.seconds)
        figures[f"clients_{clients}"] = rate
        line = (f"throughput with {clients} clients for {args.seconds:g} s: {rate:.1f} runs/s "
                f"({ok} ok, {other} not ok)")
        if clients == 16:
            line += f" ({_verdict(rate >= TARGETS['16 clients'])}: >= 15 runs/s)"
        print(line)
    wait_idle(runner)
    session = uuid.uuid4().hex
    statuses = s_statuses + b_statuses
    for label, code in (("first", MATMUL), ("second", MATMUL), ("edited", EDITED)):
        elapsed, result = _timed(runner, RunRequest(code=code, session_id=session,
                                                    timeout_s=runner.settings.max_timeout_s))
        statuses.append(result.status)
        figures[f"matmul_{label}"] = elapsed
        print(f"4096x4096 matmul, {label} run in one session: {_ms(elapsed)} request -> result "
              f"(the run {_ms(result.duration_s)}), {result.status}, {result.stdout.strip()!r}, "
              f"cache {result.compile_cache}"
              + (f", {result.message}" if result.status != "ok" else ""))
    print(f"second matmul run: {_verdict(figures['matmul_second'] <= TARGETS['second matmul'])}"
          f" (<= {_ms(TARGETS['second matmul'])})")
    timeouts = statuses.count("timeout")
    figures["timeouts"] = timeouts
    print(f"ordinary runs ending `timeout`: {timeouts} of {len(statuses)}")
    return figures
