"""What an operator sees of a worker host and of a replica: after a few runs, the host's
/metrics endpoint counts them, its log has one JSON line per run, and the replica's own registry
counts the same runs from its side."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from prometheus_client import REGISTRY

from app.protocol import RunRequest
from tests.prometheus_scrape import scrape
from tests.runner.remote.hosts import HostProcess, replica


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])



def replica_count(status: str) -> float:
    return REGISTRY.get_sample_value("playground_runs_total",
                                     {"where": "replica", "status": status}) or 0.0


def test_a_hosts_metrics_and_log_count_its_runs(redis_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = redis_server.url(3)
    port = free_port()
    host = HostProcess(url, tmp_path, slots=1, env={"PLAYGROUND_METRICS_PORT": str(port)})
    try:
        host.wait_ready()
        before = scrape(port)
        assert before[("playground_runner_up", (("where", "host"),))] == 1.0
        ok_before, error_before = replica_count("ok"), replica_count("error")
        with replica(url) as runner:
            results = [runner.run(RunRequest(code=f"print({n} * 7)")) for n in range(3)]
            results.append(runner.run(RunRequest(code="raise ValueError('no')")))
        assert [r.status for r in results] == ["ok", "ok", "ok", "error"], results
        after = scrape(port)
        assert after[("playground_runs_total", (("status", "ok"), ("where", "host")))] == 3.0
        assert after[("playground_runs_total", (("status", "error"), ("where", "host")))] == 1.0
        assert after[("playground_run_duration_seconds_count",
                      (("status", "ok"), ("where", "host")))] == 3.0
        assert after[("playground_host_heartbeats_total", ())] > 0
        assert replica_count("ok") - ok_before == 3.0
        assert replica_count("error") - error_before == 1.0

        deadline = time.monotonic() + 10
        lines: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(lines) < 4:
            lines = [json.loads(line) for line in host.log_path.read_text().splitlines()
                     if line.startswith("{") and '"event": "run"' in line]
            time.sleep(0.2)
        assert [line["status"] for line in lines] == ["ok", "ok", "ok", "error"]
        first = lines[0]
        assert first["where"] == "host" and first["component"] == "worker-host"
        assert isinstance(first["run_ms"], int) and isinstance(first["queue_ms"], int)
        assert first["session"] is None or len(str(first["session"])) == 12
    finally:
        host.stop()
