"""Behind the shipped proxy, each visitor is its own client: a private HAProxy, run with the
frontend and defaults of deploy/haproxy.cfg, in front of the real app server (hosted, trusting
only that proxy), and two visitors whose connections reach the proxy from 127.0.0.2 and
127.0.0.3. The room-creation limit (one an hour here) holds back the first visitor's second
room and not the second visitor's first; the rooms table records each visitor's own address.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.rooms.inputs import token_hash
from tests.browser.conftest import ROOT, stop_and_check_nothing_left
from tests.browser.serving import free_port, start_app, wait_healthy
from tests.browser.test_rooms import NANSUM, create_room, open_page

pytestmark = pytest.mark.browser

SHIPPED = ROOT / "deploy" / "haproxy.cfg"
VISITORS = ("127.0.0.2", "127.0.0.3")


def proxy_config(listen: int, app_port: int) -> str:
    """deploy/haproxy.cfg with this host's ports: the shipped frontend and defaults, one server
    in place of the Docker DNS template."""
    text = SHIPPED.read_text()
    text = re.sub(r"\nresolvers docker\n(?:    .*\n)+", "\n", text)
    text = text.replace("bind :8501", f"bind 127.0.0.1:{listen}")
    text = re.sub(r"server-template .*", f"server app1 127.0.0.1:{app_port} check", text)
    assert "resolvers" not in text
    return text


class Relay:
    """A TCP relay on 127.0.0.1 whose connections leave from another source address: how the
    proxy sees a visitor from elsewhere (Chromium cannot pick its source address)."""

    def __init__(self, target: int, source: str) -> None:
        self.target, self.source = target, source
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target),
                                                source_address=(self.source, 0))
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def _haproxy() -> str:
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(found).exists():
        pytest.fail("haproxy missing: scripts/system-deps.sh installs it (make setup)")
    return found


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """(visitor address -> URL through its relay and the proxy, the rooms database)."""
    app_port, proxy_port = free_port(), free_port()
    data = tmp_path / "data"
    env = dict(os.environ, PYTHONUNBUFFERED="1", PLAYGROUND_HOSTED="1",
               PLAYGROUND_TRUSTED_PROXIES="127.0.0.1", PLAYGROUND_ROOMS_PER_HOUR="1",
               PLAYGROUND_DATA_DIR=str(data), PLAYGROUND_STATE_DIR=str(tmp_path / "state"))
    env.pop("PLAYGROUND_DATABASE_URL", None)
    config = tmp_path / "haproxy.cfg"  # first: nothing is started yet if this fails
    config.write_text(proxy_config(proxy_port, app_port))
    haproxy = _haproxy()
    log = tmp_path / "server.log"
    app = start_app(ROOT, app_port, env, log)
    proxy_log = tmp_path / "haproxy.log"
    relays: list[Relay] = []
    with proxy_log.open("wb") as sink:
        proxy = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=sink,
                                 stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{app_port}", app, log)
        wait_healthy(f"http://127.0.0.1:{proxy_port}", proxy, proxy_log)
        relays = [Relay(proxy_port, source) for source in VISITORS]
        yield ({r.source: f"http://127.0.0.1:{r.port}" for r in relays},
               data / "playground.db")
    finally:
        for relay in relays:
            relay.close()
        proxy.terminate()
        proxy.wait(timeout=10)
        stop_and_check_nothing_left(app)


def _created_by(database: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return [row[0] for row in conn.execute("SELECT created_by FROM rooms ORDER BY id")]


def test_each_visitor_behind_the_shipped_proxy_has_its_own_limits(
        proxied: tuple[dict[str, str], Path], new_page: Any) -> None:
    urls, database = proxied
    first, second = VISITORS
    # A forged header from the browser changes nothing: the proxy drops it.
    create_room(new_page(headers={"X-Forwarded-For": "203.0.113.9"}), urls[first])
    assert _created_by(database) == [token_hash(f"client:{first}")]

    again = new_page()  # a new browser session of the same visitor: the same client
    open_page(again, f"{urls[first]}/rooms")
    again.get_by_label("Room name").fill("Second")
    again.locator('[data-testid="stMultiSelect"]').first.click()
    again.keyboard.type(NANSUM.title)
    again.keyboard.press("Enter")
    again.locator("h1").first.click()  # closes the drop-down
    again.get_by_role("button", name="Create the room").click()
    again.get_by_text("rooms an hour").wait_for()
    assert _created_by(database) == [token_hash(f"client:{first}")]

    create_room(new_page(), urls[second])  # another visitor is not held back
    assert _created_by(database) == [token_hash(f"client:{a}") for a in VISITORS]
