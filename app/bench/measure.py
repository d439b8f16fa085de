"""What the benchmarks share: the trivial snippet, percentiles, runs/s with concurrent clients,
and waiting for the runner's pool to be idle and ready."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.protocol import RunRequest
from app.runner.api.runner import Runner

SNIPPET = "import jax.numpy as jnp; print(jnp.arange(3).sum())"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def throughput(runner: Runner, clients: int, seconds: float) -> tuple[float, int, int]:
    """(runs/s, ok runs, other runs) with `clients` threads running back to back."""
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            result = runner.run(RunRequest(code=SNIPPET))
            with lock:
                counts["ok" if result.ok else "other"] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return counts["ok"] / elapsed, counts["ok"], counts["other"]


def wait_idle(runner: Runner, timeout: float = 30.0, shrunk: bool = False) -> dict[str, Any]:
    """Wait until nothing runs and every waiting child is ready; shrunk: also until the pool is
    back to `prefork` (a burst's extra children go DEMAND_WINDOW_S after it)."""
    deadline = time.monotonic() + timeout
    info = runner.status()
    while time.monotonic() < deadline:
        info = runner.status()
        idle = info.get("idle", -1)
        if (info.get("running") == 0 and info.get("starting") == 0
                and info.get("ready", 0) == idle >= runner.settings.prefork
                and (not shrunk or idle == runner.settings.prefork)):
            break
        time.sleep(0.1)
    time.sleep(0.5)  # let the preforked children finish starting their backend
    return runner.status()
