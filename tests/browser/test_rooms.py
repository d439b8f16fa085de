"""A room end to end in three browser contexts: a facilitator creates it, two participants join,
one passes an exercise and the other fails one, the dashboard shows both within 5 s; the app
server is restarted and both participants find their code and progress again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.exercises import load_exercises
from tests.browser.conftest import ROOT, stop_and_check_nothing_left
from tests.browser.serving import free_port, wait_healthy
from tests.browser.test_app import EDITOR, RESULT_TIMEOUT_MS, editor_text, set_code, wait_idle

pytestmark = pytest.mark.browser

NANSUM = load_exercises().by_id("sharp-bits/jit-nansum")
DASHBOARD_WITHIN_MS = 5_000


class Server:
    """The app on one fixed port with its own data dir, so that it can be restarted."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", PLAYGROUND_DATA_DIR=str(data_dir))
        self.env.pop("PLAYGROUND_DATABASE_URL", None)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app/main.py",
                 "--server.port", str(self.port), "--server.address", "127.0.0.1",
                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_healthy(self.url, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            stop_and_check_nothing_left(self.process)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    served = Server(tmp_path / "data", tmp_path / "server.log")
    served.start()
    try:
        yield served
    finally:
        served.stop()


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.locator('[data-testid="stAppViewContainer"]').wait_for()
    wait_idle(page)


def create_room(page: Any, base: str) -> tuple[str, str]:
    open_page(page, f"{base}/rooms")
    page.get_by_label("Room name").fill("Onboarding")
    page.locator('[data-testid="stMultiSelect"]').first.click()
    page.keyboard.type(NANSUM.title)
    page.keyboard.press("Enter")
    page.locator("h1").first.click()  # closes the drop-down
    page.get_by_role("button", name="Create the room").click()
    join = page.locator("code", has_text="join=").first
    facilitator = page.locator("code", has_text="key=").first
    return str(join.inner_text()).strip(), str(facilitator.inner_text()).strip()


def join(page: Any, join_link: str, name: str) -> str:
    open_page(page, join_link)
    page.get_by_label("Your display name").fill(name)
    page.get_by_role("button", name="Join").click()
    page.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    assert "p=" in page.url
    return str(page.url)


def check(page: Any, code: str) -> None:
    set_code(page, code)
    # The editor sends its text after a pause; the Starter button lights up when it arrived.
    page.get_by_role("button", name="Starter").and_(page.locator(":enabled")).wait_for()
    page.get_by_role("button", name="Check").click()


def grid_cell(page: Any, text: str) -> None:
    """A dashboard cell: the grid draws on a canvas; its accessible cells carry the text."""
    page.locator('[role="gridcell"]', has_text=text).first.wait_for(
        state="attached", timeout=DASHBOARD_WITHIN_MS)


def test_a_room_survives_a_server_restart(server: Server, new_page: Any) -> None:
    assert NANSUM is not None
    facilitator = new_page()
    join_link, dashboard_link = create_room(facilitator, server.url)
    open_page(facilitator, dashboard_link)
    facilitator.get_by_text("Nobody has joined yet").wait_for()

    ada, bob = new_page(), new_page()
    ada_link = join(ada, join_link, "Ada")
    bob_link = join(bob, join_link, "Bob")
    bob_code = NANSUM.starter + "# Bob was here\n"
    check(ada, NANSUM.solution)
    check(bob, bob_code)
    ada.get_by_text("Passed").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    bob.get_by_text("Not yet.").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    seen_at = time.monotonic()
    grid_cell(facilitator, "✓ passed (1)")
    grid_cell(facilitator, "✗ 1 failed")
    print(f"dashboard showed both {time.monotonic() - seen_at:.1f} s after the results")

    server.stop()
    server.start()

    open_page(ada, ada_link)
    open_page(bob, bob_link)
    ada.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    bob.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    assert "jnp.where(jnp.isnan(x)" in editor_text(ada)
    assert "# Bob was here" in editor_text(bob)
    ada.get_by_text(f"✓ {NANSUM.title}").wait_for()
    bob.get_by_text(f"✗ {NANSUM.title}").wait_for()
    open_page(facilitator, dashboard_link)
    grid_cell(facilitator, "✓ passed (1)")
