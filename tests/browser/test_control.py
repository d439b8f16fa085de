"""Runs people can control and watch, in headless Chromium: Stop, Run again replaces the run in
flight, live output with the elapsed time, and Streamlit's own header Stop.

Bounds have headroom for a loaded 2-core box; measured figures are in the README ("Stop and live
output"). PLAYGROUND_UPDATE_SCREENSHOTS=1 copies the pictures into docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import Any

import pytest
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.browser.test_app import OUTPUT, ROOT, open_app, set_code, wait_text

pytestmark = pytest.mark.browser

# The issue: Stop ends a `while True` run within 1 s, and a run printing every 0.5 s shows its
# first lines within 1.5 s. The run itself ends 15-30 ms after the cancel (tests/runner/
# test_control.py holds it to 1 s); the page adds a redraw. Measured on this 2-core box, click ->
# "You stopped" on the page: 0.45-0.6 s at load average ~2, 0.9-1.5 s at ~13, once 3.1 s at ~15;
# keypress -> first line 0.9-1.0 s. The bounds leave room for such load.
STOP_SHOWN_WITHIN_S = 4.0
FIRST_LINES_WITHIN_S = 3.0
STOPPED = "You stopped the run"
COUNTER = re.compile(r"Running in the sandbox… [0-9.]+ s of 12 s")  # the server's 12 s limit
LOOP = "print('looping now', flush=True)\nwhile True:\n    pass\n"
TICKS = ("import time\nfor i in range(9):\n    print(f'line {i} of the ticker', flush=True)\n"
         "    time.sleep(0.5)\n")


def stop_button(page: Any) -> Any:
    """The area's Stop (not Streamlit's own Stop in the header)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")


def _picture(page: Any, name: str) -> None:
    """test-output/<name>, and docs/screenshots/<name> when asked to refresh them."""
    OUTPUT.mkdir(exist_ok=True)
    target = OUTPUT / name
    page.screenshot(path=str(target))
    if os.environ.get("PLAYGROUND_UPDATE_SCREENSHOTS"):
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(exist_ok=True)
        shutil.copyfile(target, folder / name)


def test_stop_ends_a_while_true_run_then_run_replaces_a_run_in_flight(
    app_url: str, new_page: Any
) -> None:
    page = new_page(width=1400, height=1150)
    open_app(page, app_url, "playground")
    set_code(page, LOOP)
    page.keyboard.press("Control+Enter")
    stop = stop_button(page)
    stop.wait_for()
    wait_text(page, "looping now")
    expect(page.get_by_text(COUNTER)).to_be_visible()
    _picture(page, "stop-after-running.png")
    clicked = time.monotonic()
    stop.click()
    wait_text(page, STOPPED)
    took = time.monotonic() - clicked
    assert took < STOP_SHOWN_WITHIN_S, f"Stop took {took:.2f} s to show the stopped run"
    assert page.get_by_text("looping now").count()  # what it printed is kept
    assert not stop_button(page).count()
    _picture(page, "stop-after-stopped.png")

    set_code(page, "import time\nprint('the next run', 6 * 7, flush=True)\ntime.sleep(30)\n")
    page.keyboard.press("Control+Enter")
    wait_text(page, "the next run 42")  # the sandbox took a run again after the stop
    assert not page.get_by_text(STOPPED).count()
    set_code(page, "print('the replacing run')\n")
    pressed = time.monotonic()
    page.keyboard.press("Control+Enter")  # while the sleeping run is in flight
    wait_text(page, "the replacing run", timeout=10_000)
    wait_text(page, "Ran in")
    assert time.monotonic() - pressed < 10  # not queued behind the first run's 12 s limit
    assert not page.get_by_text("the next run 42").count()
    assert not page.get_by_text("Time limit reached").count()


def test_live_output_and_the_header_stop_does_not_leave_the_page_running(
    app_url: str, new_page: Any
) -> None:
    page = new_page(width=1400, height=1150)
    to_server: list[Any] = []
    page.route_web_socket("**/_stcore/stream",
                          lambda socket: to_server.append(socket.connect_to_server()))
    open_app(page, app_url, "playground")
    set_code(page, "print('warm')\n")  # the sandbox is up before anything is timed
    page.keyboard.press("Control+Enter")
    wait_text(page, "Ran in")
    set_code(page, TICKS)
    pressed = time.monotonic()
    page.keyboard.press("Control+Enter")
    wait_text(page, "line 0 of the ticker", timeout=10_000)
    first = time.monotonic() - pressed
    assert first < FIRST_LINES_WITHIN_S, f"the first line took {first:.2f} s"
    wait_text(page, "line 3 of the ticker", timeout=10_000)
    assert not page.get_by_text("Ran in").count()  # still running: these lines are live
    expect(page.get_by_text(COUNTER)).to_be_visible()
    _picture(page, "live-output-after.png")
    # Streamlit's own header Stop sends stop_script: send it over a second of the run. The
    # page must still end with the run's status (finished or stopped), without another click.
    stop_script = BackMsg(stop_script=True).SerializeToString()
    for _ in range(20):
        to_server[-1].send(stop_script)
        time.sleep(0.05)
    page.get_by_text("Ran in").or_(page.get_by_text(STOPPED)).first.wait_for(timeout=15_000)
    expect(page.get_by_text("Running in the sandbox")).to_have_count(0)
