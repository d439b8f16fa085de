"""The served app with PLAYGROUND_RUNNER_URL: a run typed in the browser goes through Redis to a
worker host (a `python -m app worker-host` process) and its result comes back to the page; the
app server itself starts no sandbox; the System page lists the host; a run's output shows while
it runs and Stop ends it, through Redis as well."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest

from app.runner.remote.connection import connect
from app.runner.remote.queue import RedisQueue
from tests.browser.conftest import ROOT, stop_and_check_nothing_left
from tests.browser.serving import free_port, wait_healthy
from tests.browser.test_app import open_app, set_code, wait_text
from tests.browser.test_control import STOPPED, stop_button
from tests.runner.remote.hosts import HostProcess, start_hosts

pytestmark = pytest.mark.browser


@dataclass
class RemoteApp:
    url: str
    server: subprocess.Popen[bytes]
    host: HostProcess


@pytest.fixture(scope="module")
def remote_app(redis_server, tmp_path_factory) -> Iterator[RemoteApp]:  # type: ignore[no-untyped-def]
    url = redis_server.url(0)
    (host,) = start_hosts(url, tmp_path_factory.mktemp("hosts"), count=1)
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", PLAYGROUND_RUNNER_URL=url)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/main.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log)
        yield RemoteApp(base_url, process, host)
    finally:
        stop_and_check_nothing_left(process)
        host.stop()


def test_a_run_from_the_browser_is_served_by_a_worker_host(remote_app: RemoteApp,
                                                           new_page: Any) -> None:
    page = new_page()
    open_app(page, remote_app.url, "playground")
    set_code(page, "import socket\nprint('ran on', socket.gethostname(), 6 * 7)\n")
    page.keyboard.press("Control+Enter")
    wait_text(page, "ran on sandbox 42")  # the sandbox's own hostname (its UTS namespace)
    client = connect(remote_app.host.url)
    try:  # the host publishes its count with its heartbeat (every quarter of its TTL)
        deadline = time.monotonic() + 15
        while True:
            served = {e.host: e.status.get("runs_total")
                      for e in RedisQueue(client).snapshot().hosts}
            if served.get(remote_app.host.host_id, 0) >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        client.close()
    assert served.get(remote_app.host.host_id, 0) >= 1
    replica = psutil.Process(remote_app.server.pid).children(recursive=True)
    assert not any("app.runner.supervisor" in " ".join(p.cmdline()) for p in replica)
    open_app(page, remote_app.url, "system", editors=False)
    wait_text(page, "Worker hosts (1)")


def test_live_output_and_stop_through_redis(remote_app: RemoteApp, new_page: Any) -> None:
    page = new_page(width=1400, height=1150)
    open_app(page, remote_app.url, "playground")
    set_code(page, "import time\nfor i in range(60):\n    print(f'tick {i} from the host', "
                   "flush=True)\n    time.sleep(0.3)\n")
    page.keyboard.press("Control+Enter")
    wait_text(page, "tick 2 from the host")
    assert not page.get_by_text("Ran in").count()  # still running: the lines came live
    stop_button(page).click()
    wait_text(page, STOPPED)
    assert page.get_by_text("tick 2 from the host").count()  # what it printed is kept

