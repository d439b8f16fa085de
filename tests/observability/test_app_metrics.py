"""The app replica as an operator runs it: `python -m app.server` with PLAYGROUND_METRICS_PORT.
A visitor's run (through the browser's websocket protocol, bench/st_client.py) shows on the
replica's /metrics endpoint and as one JSON line in the server's log; the structured lines of
logs.configure carry their fields."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from app.observability import logs
from tests.browser.serving import free_port, wait_healthy
from tests.prometheus_scrape import scrape

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from st_client import BrowserSession  # noqa: E402


def test_a_visitors_run_shows_on_the_replicas_metrics_and_log(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    log_path = tmp_path / "server.log"
    env = dict(os.environ, PLAYGROUND_METRICS_PORT=str(metrics_port),
               PLAYGROUND_STATE_DIR=str(tmp_path / "state"),
               PLAYGROUND_DATA_DIR=str(tmp_path / "data"), PLAYGROUND_TIMEOUT_S="30")
    with log_path.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.server", "run", "app/main.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server, log_path)
        before = scrape(metrics_port)
        # Nobody has run anything: the scrape did not start the sandbox.
        assert before[("playground_runner_up", (("where", "local"),))] == 0.0
        assert before[("playground_rooms_active", ())] == 0.0

        tab = BrowserSession(base)
        assert tab.open("playground")
        token = uuid.uuid4().hex
        tab.submit_code(tab.widget_of_kind("component_instance"), f"print('{token}')\n")
        assert tab.wait(lambda s: any(token in t and "print(" not in t
                                      for t in s.texts.values()), 180), tab.text()[-2000:]
        tab.close()

        after = scrape(metrics_port)
        assert after[("playground_runs_total", (("status", "ok"), ("where", "local")))] >= 1.0
        assert after[("playground_runner_up", (("where", "local"),))] == 1.0
        deadline = time.monotonic() + 10
        runs: list[dict[str, object]] = []
        while not runs and time.monotonic() < deadline:
            runs = [json.loads(line) for line in log_path.read_text(errors="replace").splitlines()
                    if line.startswith("{") and '"event": "run"' in line]
            time.sleep(0.2)
        assert runs and runs[-1]["status"] == "ok" and runs[-1]["component"] == "app"
        assert runs[-1]["where"] == "local"
        # the supervisor logs its start in the same log, as JSON
        assert '"event": "supervisor_start"' in log_path.read_text(errors="replace")
    finally:
        server.terminate()
        server.wait(30)


def test_a_log_line_is_one_json_object_with_its_fields(capsys) -> None:  # type: ignore[no-untyped-def]
    logs.configure("test", {"PLAYGROUND_LOG_FORMAT": "json"})
    try:
        logging.getLogger("playground.test").warning(
            "pool shrinks", extra={"fields": {"event": "pool_shrink", "dropped": 2}})
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["msg"] == "pool shrinks" and record["level"] == "warning"
        assert record["event"] == "pool_shrink" and record["dropped"] == 2
        assert record["component"] == "test"
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "playground"]:
            root.removeHandler(handler)
        logs._configured = None
