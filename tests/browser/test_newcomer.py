"""What a newcomer meets, in Chromium (issue 11 items 4-9, 14-18; issue 9 item 7): the failing
line marked in the editor, run text never rendered as markup, a phone-sized screen, shared links
that scroll to their snippet, the Transform Lab's one status per side, Download .py."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.snippets import load_library
from app.ui.share import SharedState, encode
from tests.browser.serving import free_port
from tests.browser.test_app import (
    EDITOR,
    RESULT_TIMEOUT_MS,
    editor_text,
    open_app,
    set_code,
    wait_text,
)

pytestmark = pytest.mark.browser

BLANK_LINE_REPRO = (
    "import jax.numpy as jnp\n\na = jnp.ones(3)\nb = jnp.ones(4)\nc = a + b\nprint(c)\n"
)


def _ace(page: Any, expression: str, index: int = 0) -> Any:
    """Evaluate expression with `editor` bound to the index-th Ace editor on the page."""
    return page.evaluate(
        "([index, body]) => { const frame = document.querySelectorAll("
        "'iframe[title=\"code_editor.code_editor\"]')[index];"
        " const editor = frame.contentDocument.querySelector('.ace_editor').env.editor;"
        " return new Function('editor', 'return ' + body)(editor); }",
        [index, expression],
    )


def test_failing_line_is_marked_in_the_editor_and_the_excerpt_jumps_there(
    app_url: str, new_page: Any, tmp_path: Path
) -> None:
    page = new_page()
    open_app(page, app_url, "playground")
    set_code(page, BLANK_LINE_REPRO)
    page.keyboard.press("Control+Enter")
    wait_text(page, "Your code raised TypeError on line 5")
    expect(page.locator(".pg-excerpt .hll").first).to_contain_text("c = a + b")
    frame = page.frame_locator(EDITOR).first
    expect(frame.locator(".ace_gutter-cell.ace_error")).to_have_text("5")
    expect(frame.locator(".pg-error-line")).to_have_count(1)
    _ace(page, "editor.gotoLine(1, 0, false)")
    page.locator(".pg-excerpt .hll .linenos").first.click()
    page.wait_for_function(
        "() => document.querySelector('iframe[title=\"code_editor.code_editor\"]')"
        ".contentDocument.querySelector('.ace_editor').env.editor.getCursorPosition().row === 4")
    # Download .py beside Share: the editor's code as a file.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download .py").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "blank.py" and saved.read_text() == BLANK_LINE_REPRO
    assert editor_text(page).startswith("import jax.numpy as jnp")


@pytest.fixture
def pixel_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request: an <img> or a followed link shows up."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the stdlib's name
            seen.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_run_text_never_reaches_the_page_as_markup(
    app_url: str, new_page: Any, pixel_server: tuple[str, list[str]]
) -> None:
    base, seen = pixel_server
    message = (f"The `__index__()` method ![x]({base}/pixel.png) [click me]({base}/phish) "
               f"<img src='{base}/raw.png'>")
    page = new_page()
    open_app(page, app_url, "playground")
    main = page.locator('[data-testid="stMain"]')
    # In a code block (the error's message), and inside our own markdown: a MemoryError's
    # message is quoted in the status line, escaped, where a bare address would autolink.
    for code, shown in ((f"print({message!r})\nraise ValueError({message!r})\n",
                         "Your code raised ValueError"),
                        (f"raise MemoryError({message!r})\n", "Memory limit reached")):
        set_code(page, code)
        page.keyboard.press("Control+Enter")
        wait_text(page, shown)
        page.get_by_text("The `__index__()` method").first.wait_for()  # backticks kept: text
        time.sleep(1.0)  # an image would have been fetched by now
        assert main.locator(f'img[src^="{base}"]').count() == 0
        assert main.locator(f'a[href^="{base}"]').count() == 0
        assert seen == []


def test_phone_sized_screen(app_url: str, new_page: Any) -> None:
    page = new_page(width=390, height=844)
    open_app(page, app_url, "transform-lab")
    sidebar = page.locator('[data-testid="stSidebar"]')
    box = sidebar.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, box  # collapsed: off the screen
    for chip in page.locator('[data-testid="stButtonGroup"] button', has_text="+ pmap").all():
        chip.scroll_into_view_if_needed()
        chip_box = chip.bounding_box()
        assert chip_box and chip_box["x"] + chip_box["width"] <= 390, chip_box
    frame = page.frame_locator(EDITOR).first
    copy = frame.get_by_role("button", name="Copy").bounding_box()
    code = frame.locator(".ace_scroller").bounding_box()
    assert copy and code and copy["y"] + copy["height"] <= code["y"] + 1, (copy, code)
    # wide screens keep the sidebar open
    wide = new_page()
    open_app(wide, app_url, "transform-lab", editors=False)
    wide_box = wide.locator('[data-testid="stSidebar"]').bounding_box()
    assert wide_box and wide_box["x"] >= 0 and wide_box["width"] > 100, wide_box


def test_shared_snippet_link_scrolls_to_the_snippet_and_marks_it(
    app_url: str, new_page: Any
) -> None:
    section = load_library().sections[0]
    target = section.snippets[-1]
    token = encode(SharedState(target.id, "print('shared with you')\n", {"inspect": False}))
    page = new_page()
    page.goto(f"{app_url}/{section.slug}?share={token}")
    wait_text(page, "Shared with you")
    heading = page.locator(f'[id="{target.id.split("/")[-1]}"]')
    page.wait_for_function(
        "(id) => { const box = document.getElementById(id).getBoundingClientRect();"
        " return box.top >= 0 && box.top < window.innerHeight / 2; }",
        arg=target.id.split("/")[-1], timeout=RESULT_TIMEOUT_MS)
    assert heading.is_visible()


def test_transform_lab_one_status_per_side_and_listings_that_wrap(
    app_url: str, new_page: Any
) -> None:
    page = new_page()
    open_app(page, app_url, "transform-lab")
    set_code(page, "import jax.numpy as jnp\n\ndef f(x):\n    return jnp.sin(x) * 2\n\n"
                   "x = jnp.linspace(0.0, 1.0, 5)\n")
    expect(page.get_by_role("button", name="Reset code")).to_be_enabled()  # the edit arrived
    page.get_by_role("button", name="Run").first.click()
    wait_text(page, "No steady-state comparison")
    errors = page.locator('[data-testid="stAlert"]').filter(
        has_text="The transformed function raised TypeError")
    expect(errors).to_have_count(2)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="Ran in").count() == 0
    # The shipped function: both sides run; their listings wrap instead of being cut.
    page.get_by_role("button", name="Reset code").click()
    page.get_by_text("The transformed function raised").first.wait_for(state="detached")
    page.get_by_text("Also time the function without jit").click()  # less to time
    page.get_by_role("button", name="Run").first.click()
    page.get_by_role("tab", name="jaxpr").nth(1).wait_for(timeout=RESULT_TIMEOUT_MS)
    for view, count in (("jaxpr", 2), ("HLO", 4)):  # HLO: StableHLO and the optimised HLO
        for tab in page.get_by_role("tab", name=view).all():
            tab.click()
        listings = page.locator('[data-testid="stTabPanel"]:visible .pg-wrap .pgx-ir')
        expect(listings).to_have_count(count)
        widths = listings.evaluate_all("els => els.map(e => [e.scrollWidth, e.clientWidth])")
        assert all(scroll <= client + 1 for scroll, client in widths), (view, widths)
