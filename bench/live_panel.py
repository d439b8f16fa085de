"""What a run in flight costs the app server: the live panel redraws it every
PLAYGROUND_LIVE_UPDATE_S seconds, each redraw a Streamlit fragment rerun.

    .venv/bin/python bench/live_panel.py [--seconds 5]

Serves the app on a free port, opens the Playground in headless Chromium (Debian's), and reads
the server process's CPU time (psutil) over --seconds while idle, then while one run that prints
every 0.2 s is in flight. Printed: CPU seconds per second in both, and per redraw. Asserts
nothing on time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PRINTER = "import time\nfor i in range(200):\n    print(i, flush=True)\n    time.sleep(0.2)\n"


def cpu_per_second(process, seconds: float) -> float:  # type: ignore[no-untyped-def]
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    return (after.user + after.system - before.user - before.system) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    import psutil
    from playwright.sync_api import sync_playwright

    from app.config import settings
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.serving import free_port, wait_healthy
    from tests.browser.test_app import open_app, set_code, wait_text

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        env = dict(os.environ, PLAYGROUND_TIMEOUT_S="30")
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [sys.executable, "-m", "app.server", "run", "app/main.py", "--server.port",
                 str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_healthy(base, server, log)
            process = psutil.Process(server.pid)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.set_default_timeout(120_000)
                open_app(page, base, "playground")
                set_code(page, "print('warm')\n")
                page.keyboard.press("Control+Enter")
                wait_text(page, "Ran in")
                time.sleep(1.0)
                idle = cpu_per_second(process, args.seconds)
                set_code(page, PRINTER)
                page.keyboard.press("Control+Enter")
                wait_text(page, "Running in the sandbox")
                time.sleep(1.0)
                live = cpu_per_second(process, args.seconds)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)
    interval = settings().live_update_s
    print(f"app server CPU, idle page:            {idle:.3f} s/s")
    print(f"app server CPU, one run in flight:    {live:.3f} s/s "
          f"(redraw every {interval:g} s: {(live - idle) * interval * 1000:.0f} ms per redraw)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
