"""Container health check: exit 0 when Streamlit's /_stcore/health answers 200 "ok" in time.

/_stcore/health, not /healthz (which answers 200 with the page even when the server is broken).
Standard library only: the slim image has no curl. Usage: python deploy/healthcheck.py [URL].
`--worker-host`: a worker host's container instead: its last heartbeat that Redis took is
recent (app/runner/remote/host.py: alive).
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

DEFAULT_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8501')}/_stcore/health"


def healthy(url: str = DEFAULT_URL, timeout_s: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status == 200 and response.read(16).strip() == b"ok"
    except OSError:
        return False


def worker_host_alive() -> bool:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
    from app.config import settings
    from app.runner.remote.host import alive

    return alive(settings())


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker-host"]:
        sys.exit(0 if worker_host_alive() else 1)
    sys.exit(0 if healthy(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL) else 1)
