"""Several Chromium pages run snippets at once against one served app: each gets its own result.

Uses the browser suite's fixtures (tests/browser/conftest.py: app_url serves the app, new_page
gives pages in their own contexts, i.e. their own Streamlit sessions). Where the pages outnumber
the sandbox's running slots, at least one of them must show its queue position while it waits.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import load
from tests.browser.serving import free_port, wait_healthy

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

PAGES = 4
EDITOR = 'iframe[title="code_editor.code_editor"]'
RESULT_TIMEOUT_S = 120.0  # the runs share the sandbox slots; the first may wait for its start


def snippet(index: int) -> str:
    # Long enough that runs overlap, and a value only this page can print.
    return f"import time\ntime.sleep(2)\nprint('page {index} says', {index} * 1001)\n"


def open_playground(page: Any, base: str) -> None:
    page.goto(f"{base}/playground")
    page.frame_locator(EDITOR).first.locator(".ace_content").wait_for(timeout=90_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')",
        timeout=90_000,
    )


def type_code(page: Any, code: str) -> None:
    page.frame_locator(EDITOR).first.locator(".ace_content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)


def test_pages_running_at_once_all_get_their_own_results(app_url: str, new_page: Any) -> None:
    pages = [new_page(width=1200, height=900) for _ in range(PAGES)]
    for index, page in enumerate(pages):
        open_playground(page, app_url)
        type_code(page, snippet(index))
    for page in pages:  # as close together as one driver can send them
        page.keyboard.press("Control+Enter")

    expected = {index: f"page {index} says {index * 1001}" for index in range(PAGES)}
    done: set[int] = set()
    saw_queue_position = False
    deadline = time.monotonic() + RESULT_TIMEOUT_S
    while len(done) < PAGES and time.monotonic() < deadline:
        for index, page in enumerate(pages):
            if index in done:
                continue
            if page.get_by_text("Queued (position").count():
                saw_queue_position = True
            if page.get_by_text(expected[index]).count():
                done.add(index)
        time.sleep(0.1)
    assert done == set(range(PAGES)), f"pages without their result: {set(range(PAGES)) - done}"

    for index, page in enumerate(pages):  # each session shows its own output, not another's
        for other, text in expected.items():
            if other != index:
                assert not page.get_by_text(text).count(), (index, other)
        assert not page.get_by_text("The server is busy").count()

    slots = load().max_concurrent  # the served app inherits this process's environment
    if slots < PAGES:
        assert saw_queue_position, f"{PAGES} runs on {slots} slots, no page showed its position"


# --- hosted mode: the per-session rate limit as a visitor sees it --------------------------


@pytest.fixture(scope="module")
def hosted_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started the way the container starts it (scripts/serve.sh), hosted, 2 runs/min."""
    port = free_port()
    state = tmp_path_factory.mktemp("hosted-state")
    log = state / "server.log"
    env = dict(os.environ, PORT=str(port), ADDRESS="127.0.0.1", PYTHON=sys.executable,
               PLAYGROUND_HOSTED="1", PLAYGROUND_RATE_PER_MINUTE="2",
               # Visitors come from 127.0.0.1: it stands for a proxy that names them
               PLAYGROUND_TRUSTED_PROXIES="127.0.0.1",
               PLAYGROUND_STATE_DIR=str(state / "runner"))
    with log.open("wb") as sink:
        process = subprocess.Popen([str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_and_wait(page: Any, code: str, text: str) -> None:
    type_code(page, code)
    page.keyboard.press("Control+Enter")
    page.get_by_text(text).first.wait_for(timeout=RESULT_TIMEOUT_S * 1000)


def test_hosted_session_over_its_rate_sees_the_wait(hosted_app_url: str, new_page: Any) -> None:
    """Limits follow the visitor's address, not the browser session (issue 9, item 4)."""
    eager = new_page(width=1200, height=900, headers={"X-Forwarded-For": "198.51.100.1"})
    open_playground(eager, hosted_app_url)
    assert eager.get_by_text("Public demo").count(), "hosted mode shows its notice"
    run_and_wait(eager, "print('first run')\n", "first run")
    run_and_wait(eager, "print('second run')\n", "second run")
    run_and_wait(eager, "print('third run')\n", "Try again in")
    notice = str(eager.get_by_text("Try again in").first.inner_text())
    assert re.search(r"at most 2 runs per minute .* Try again in \d+ s", notice), notice
    assert not eager.get_by_text("third run", exact=True).count()

    # A new browser session from the same address is the same visitor: held back too.
    again = new_page(width=1200, height=900, headers={"X-Forwarded-For": "198.51.100.1"})
    open_playground(again, hosted_app_url)
    run_and_wait(again, "print('new session, same visitor')\n", "Try again in")
    assert not again.get_by_text("new session, same visitor", exact=True).count()

    other = new_page(width=1200, height=900, headers={"X-Forwarded-For": "198.51.100.2"})
    open_playground(other, hosted_app_url)  # another visitor is not held back
    run_and_wait(other, "print('another visitor')\n", "another visitor")
