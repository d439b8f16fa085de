"""Container health check: exit 0 when Streamlit's /_stcore/health answers 200 "ok" in time.

/_stcore/health, not /healthz (which answers 200 with the page even when the server is broken).
Standard library only: the slim image has no curl. Usage: python deploy/healthcheck.py [URL].
"""

from __future__ import annotations

import os
import sys
import urllib.request

DEFAULT_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8501')}/_stcore/health"


def healthy(url: str = DEFAULT_URL, timeout_s: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status == 200 and response.read(16).strip() == b"ok"
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL) else 1)
