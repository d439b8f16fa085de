"""Serving the app for browser tests: a free port, and waiting until its health check answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path,
                 timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Until /_stcore/health answers 200; the server's log in the error if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the app server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer /_stcore/health:\n{log.read_text()}")


def start_app(root: Path, port: int, env: dict[str, str],
              log: Path) -> subprocess.Popen[bytes]:
    """The app as it is served (`python -m app.server run app/main.py`) on 127.0.0.1:port, its
    output in log (own session: the caller stops it and its runner with
    stop_and_check_nothing_left)."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "app.server", "run", "app/main.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
