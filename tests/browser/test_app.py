"""The served app in headless Chromium: the issue's browser cases, end to end."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"

EDITOR = 'iframe[title="code_editor.code_editor"]'
RESULT_TIMEOUT_MS = 90_000  # the first run of a session may wait for the sandbox to start


def open_app(page: Any, base: str, path: str = "", editors: bool = True) -> None:
    """Open a page and wait until its first script run is over (a click sent during that run
    can be lost) and, where the page has one, its first editor is drawn."""
    page.goto(f"{base}/{path}")
    page.locator('[data-testid="stAppViewContainer"]').wait_for()
    if editors:
        page.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    wait_idle(page)


def wait_idle(page: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')",
        timeout=RESULT_TIMEOUT_MS,
    )


def set_code(page: Any, code: str, index: int = 0) -> None:
    """Replace the whole text of the index-th editor, as a person would (select all, type)."""
    frame = page.frame_locator(EDITOR).nth(index)
    frame.locator(".ace_content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)


def editor_text(page: Any, index: int = 0) -> str:
    return str(page.frame_locator(EDITOR).nth(index).locator(".ace_content").inner_text())


def wait_text(page: Any, text: str, timeout: int = RESULT_TIMEOUT_MS) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout)


def test_edit_and_ctrl_enter_runs_new_code(app_url: str, new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "core-transformations")
    set_code(page, "print('hello from the browser', 6 * 7)\n")
    page.keyboard.press("Control+Enter")
    wait_text(page, "hello from the browser 42")
    assert page.get_by_text("edited").first.is_visible()


def _jaxpr_text(page: Any) -> str:
    page.get_by_role("tab", name="jaxpr").first.click()
    listing = page.locator('[data-testid="stTabPanel"]:visible .pgx-ir').first
    listing.wait_for()
    return str(listing.inner_text())


def test_transform_lab_toggles_change_the_jaxpr(app_url: str, new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "transform-lab")
    page.get_by_text("Compare with a second stack").click()  # one stack: grad, then jit
    page.get_by_role("button", name="Run").first.click()
    wait_text(page, "jax.jit(jax.grad(f))")
    wait_text(page, "Ran in")
    with_jit = _jaxpr_text(page)
    # Drop jit (the second step) from the stack by clicking its chip, as a person would.
    step = page.locator('[data-testid="stButtonGroup"] button', has_text="2. jit").first
    step.click()
    step.wait_for(state="detached")
    page.get_by_role("button", name="Run").first.click()
    page.get_by_text("jax.jit(jax.grad(f))").first.wait_for(state="detached",
                                                            timeout=RESULT_TIMEOUT_MS)
    wait_text(page, "Ran in")
    without_jit = _jaxpr_text(page)
    assert "jit[" in with_jit, with_jit
    assert "jit[" not in without_jit and "cos" in without_jit, without_jit


def test_gotcha_pair_shows_both_sides(app_url: str, new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "gotchas")
    page.frame_locator(EDITOR).nth(1).locator(".ace_content").wait_for()
    page.get_by_role("button", name="Run both").first.click()
    wait_text(page, "Verdict:")
    verdict_block = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Verdict:")
    verdict = str(verdict_block.first.inner_text())
    assert "NumPy" in verdict and "JAX" in verdict, verdict
    statuses = page.locator('[data-testid="stAlert"]').filter(has_text="Ran in")
    statuses = statuses.or_(page.locator('[data-testid="stAlert"]').filter(has_text="raised"))
    assert statuses.count() >= 2


def test_share_link_opens_the_same_code(app_url: str, new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "core-transformations")
    shared_code = "print('shared', 1 + 1)\n"
    set_code(page, shared_code)
    wait_text(page, "edited")  # the editor sends its text after a pause; the app marks the edit
    page.get_by_role("button", name="Share").first.click()
    link_block = page.locator('[data-testid="stCode"]').filter(has_text="share=").first
    link_block.wait_for()
    link = str(link_block.inner_text()).strip()
    assert link.startswith(app_url) and "/core-transformations?share=" in link

    fresh = new_page()
    fresh.goto(link)
    wait_text(fresh, "Opened from a share link")
    fresh.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    assert "print('shared', 1 + 1)" in editor_text(fresh)


def test_damaged_share_link_opens_with_a_notice(app_url: str, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{app_url}/core-transformations?share=eJzLSM3JyVcozy_KSQEAGgQEXQ")
    wait_text(page, "share link")
    assert page.get_by_role("heading", name="Core Transformations").first.is_visible()


def test_infinite_loop_times_out_while_another_page_keeps_working(
    app_url: str, new_page: Any
) -> None:
    looping = new_page()
    open_app(looping, app_url, "playground")
    set_code(looping, "while True:\n    pass\n")
    looping.keyboard.press("Control+Enter")
    looping.get_by_text("sandbox…").first.wait_for()  # queued or running

    other = new_page()
    open_app(other, app_url, "core-transformations")
    set_code(other, "print('still working')\n")
    other.keyboard.press("Control+Enter")
    wait_text(other, "still working")
    assert not looping.get_by_text("Time limit reached").count()
    wait_text(looping, "Time limit reached")


def test_screenshot_for_the_readme(app_url: str, new_page: Any) -> None:
    """docs/screenshot.png: a section page after a run (written when asked to, else test-output)."""
    page = new_page(width=1400, height=1050)
    open_app(page, app_url, "core-transformations")
    page.get_by_role("button", name="Run").first.click()
    wait_text(page, "Ran in")
    page.get_by_role("tab", name="jaxpr").first.click()
    time.sleep(1.0)  # let the tab and the editor settle before the picture
    OUTPUT.mkdir(exist_ok=True)
    target = OUTPUT / "screenshot.png"
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
    if os.environ.get("PLAYGROUND_UPDATE_SCREENSHOTS"):
        shutil.copyfile(target, ROOT / "docs" / "screenshot.png")


def test_error_and_dark_theme_screenshot(app_url: str, new_page: Any) -> None:
    """The failing line is highlighted in the dark theme too (docs/screenshot-dark.png)."""
    page = new_page(width=1400, height=1050, color_scheme="dark")
    open_app(page, app_url, "playground")
    set_code(page, "import jax.numpy as jnp\n\nx = jnp.arange(3)\nx[0] = 10\nprint(x)\n")
    page.keyboard.press("Control+Enter")
    wait_text(page, "Your code raised TypeError on line 4")
    # expect() retries: the fragment may redraw the result (a fresh node) after the first paint
    expect(page.locator(".pg-hl .hll").first).to_contain_text("x[0] = 10")
    background = page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
        ".backgroundColor"
    )
    red, green, blue = (int(v) for v in background[background.index("(") + 1 : -1].split(",")[:3])
    assert red + green + blue < 150, background  # the browser asked for dark: the app is dark
    # look the line up and scroll in one step in the page, so a redraw in between cannot detach it
    page.evaluate("() => document.querySelector('.pg-hl .hll')?.scrollIntoView({block: 'center'})")
    time.sleep(0.5)
    OUTPUT.mkdir(exist_ok=True)
    target = OUTPUT / "screenshot-dark.png"
    page.screenshot(path=str(target))
    if os.environ.get("PLAYGROUND_UPDATE_SCREENSHOTS"):
        shutil.copyfile(target, ROOT / "docs" / "screenshot-dark.png")


def test_run_survives_leaving_the_page_and_coming_back(app_url: str, new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "playground")
    set_code(page, "import time\ntime.sleep(3)\nprint('survived the page switch')\n")
    page.keyboard.press("Control+Enter")
    page.get_by_text("sandbox…").first.wait_for()
    sidebar = page.locator('[data-testid="stSidebarNav"]')
    sidebar.get_by_text("System", exact=True).click()
    page.get_by_role("heading", name="System").first.wait_for()
    sidebar.get_by_text("Playground", exact=True).click()
    wait_text(page, "survived the page switch")
    assert "survived the page switch" in editor_text(page)  # the edit came back too
