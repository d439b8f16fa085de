"""The server makes no outbound connection: scripts/serve.sh started for real in a network
namespace with no route and no DNS (only loopback), probed there (health, the start page and a
cross-origin WebSocket, which made Streamlit look up the machine's external address), with a
Python audit hook in the server that records every socket connect, sendto and name lookup.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PORT = 8599  # inside a namespace of its own: nothing else listens there

# Loaded by every Python process of the server (sitecustomize on PYTHONPATH).
AUDIT = """
import os, sys
_log = os.environ.get("NO_OUTBOUND_AUDIT_LOG")
_LOCAL = {None, "localhost", "127.0.0.1", "::1", "0.0.0.0", "::", b"localhost"}

def _hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[-1]
        if not isinstance(address, tuple) or address[0] in _LOCAL:
            return  # AF_UNIX (the runner's pipes and sockets), loopback
        entry = f"{event} {address!r}"
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if args[0] in _LOCAL:
            return
        entry = f"{event} {args[0]!r}"
    else:
        return
    with open(_log, "a") as f:
        f.write(f"{os.getpid()} {entry}\\n")

if _log:
    sys.addaudithook(_hook)
"""

PROBE = """
import socket, sys, time, urllib.request
port = int(sys.argv[1])
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("no health")
    time.sleep(0.5)
with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
    assert r.status == 200
# A WebSocket handshake from another origin: Streamlit checks it against its allowed origins.
with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
    s.sendall((f"GET /_stcore/stream HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\n"
               "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n"
               "Sec-WebSocket-Protocol: streamlit\\r\\n"
               "Origin: http://elsewhere.example\\r\\n\\r\\n").encode())
    print("websocket:", s.recv(200).split(b"\\r\\n")[0].decode())
print("probed")
"""


def _netns_usable() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


@pytest.mark.skipif(not _netns_usable(), reason="needs root and iproute2 (ip netns)")
@pytest.mark.timeout(240)
def test_server_makes_no_outbound_connection(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(AUDIT)
    audit_log = tmp_path / "audit.log"
    audit_log.touch()
    server_log = tmp_path / "server.log"
    namespace = f"pg-noroute-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    server = None
    try:
        subprocess.run(["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"],
                       check=True)
        env = {
            "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PORT": str(PORT),
            "PYTHON": sys.executable, "PYTHONPATH": str(tmp_path),
            "NO_OUTBOUND_AUDIT_LOG": str(audit_log),
            "PLAYGROUND_HOSTED": "1", "PLAYGROUND_STATE_DIR": str(tmp_path / "state"),
        }
        with server_log.open("w") as out:
            server = subprocess.Popen(
                ["ip", "netns", "exec", namespace, str(REPO / "scripts" / "serve.sh")],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        probe = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", PROBE, str(PORT)],
            capture_output=True, text=True, timeout=180, check=False)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
    log = server_log.read_text()
    assert probe.returncode == 0 and "probed" in probe.stdout, probe.stdout + probe.stderr + log
    assert "websocket:" in probe.stdout
    assert "Did not auto detect external IP" not in log, log
    assert audit_log.read_text() == "", audit_log.read_text()
    assert "checkip" not in log
