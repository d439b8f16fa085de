"""Several Chromium pages run snippets at once against one served app: each gets its own result.

Uses the browser suite's fixtures (tests/browser/conftest.py: app_url serves the app, new_page
gives pages in their own contexts, i.e. their own Streamlit sessions). Where the pages outnumber
the sandbox's running slots, at least one of them must show its queue position while it waits.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.config import load

pytestmark = pytest.mark.browser

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
