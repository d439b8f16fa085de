"""What a room's pulse costs the server: N participant pages left idle in Chromium (each polls
the room every PULSE_S, app/ui/pages/rooms.py), against the same number of idle Exercises pages
(no pulse), alternating; the Streamlit server's own CPU seconds over each window. Prints figures;
asserts nothing.

    .venv/bin/python bench/room_pulse.py                 # 5 pages, 40 s windows, 2 rounds
    .venv/bin/python bench/room_pulse.py --pages 10 --window 60
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, stop_and_check_nothing_left  # noqa: E402
from tests.browser.serving import free_port, start_app, wait_healthy  # noqa: E402


def measure(process: psutil.Process, seconds: float) -> float:
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    return (after.user + after.system) - (before.user + before.system)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--window", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="room-pulse-")
    os.environ["PLAYGROUND_DATA_DIR"] = data
    os.environ.pop("PLAYGROUND_DATABASE_URL", None)
    from playwright.sync_api import sync_playwright

    from app.config import settings
    from app.rooms import learners, rooms
    from app.rooms.catalogue import Item, catalogue
    from app.rooms.store import get_store
    from app.ui.pages.rooms import PULSE_S

    db = get_store()
    room = rooms.create_room(db, settings(), catalogue(), name="Bench",
                                items=[Item("exercise", "sharp-bits/jit-nansum")],
                                ends_at=time.time() + 3600, client_id="bench").room
    tokens = [learners.join_room(db, settings(), room.code, f"P{i}") for i in range(args.pages)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(data) / "server.log"
    server = start_app(ROOT, port, dict(os.environ), log)
    try:
        wait_healthy(url, server, log)
        process = psutil.Process(server.pid)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=CHROMIUM_ARGS)
            figures: dict[str, list[float]] = {"room (pulse)": [], "exercises (no pulse)": []}
            for _ in range(args.rounds):
                for kind in figures:
                    contexts = []
                    for token in tokens:
                        context = browser.new_context()
                        page = context.new_page()
                        # A room's token would lead the Exercises page to the room: none there.
                        path = f"rooms?p={token}" if kind.startswith("room") else "exercises"
                        page.goto(f"{url}/{path}", timeout=120_000)
                        page.locator("h1").first.wait_for(timeout=120_000)
                        contexts.append(context)
                    time.sleep(5)  # the pages' first draws are over
                    figures[kind].append(measure(process, args.window))
                    for context in contexts:
                        context.close()
            browser.close()
    finally:
        stop_and_check_nothing_left(server)
    print(f"{args.pages} idle pages, {args.window:g} s windows, pulse every {PULSE_S:g} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for kind, values in figures.items():
        per_page = [v / args.window / args.pages * 100 for v in values]
        print(f"{kind:22} server CPU {', '.join(f'{v:.2f}' for v in values)} s per window = "
              f"{', '.join(f'{p:.2f}' for p in per_page)} % of a core per page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
