"""Browser tests: the real app served on a free localhost port, driven by Playwright in Debian's
Chromium. A failing test leaves a screenshot of its page under test-output/."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.browser.serving import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    "--disable-dev-shm-usage",
]

@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app/main.py` on a free port, for the whole browser session."""
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # The infinite-loop test waits for this limit; long enough for another page to run meanwhile.
    env.setdefault("PLAYGROUND_TIMEOUT_S", "12")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.server", "run", "app/main.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log)
        yield base_url
    finally:
        stop_and_check_nothing_left(process)


def stop_and_check_nothing_left(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server; its runner (supervisor, zygote, children) must go with it."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(descendants, timeout=15)
    for leftover in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()
    assert not alive, f"processes outlived the app server: {[p.pid for p in alive]}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A factory of fresh pages (own context: own Streamlit session); screenshots on failure."""
    contexts = []

    def make(width: int = 1400, height: int = 1000, color_scheme: str = "light",
             headers: dict[str, str] | None = None) -> object:
        """headers: sent with every request (e.g. X-Forwarded-For: another visitor's address)."""
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height}, color_scheme=color_scheme,
            extra_http_headers=headers or {},
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        OUTPUT.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                name = f"{request.node.name}-{index}-{number}.png"
                try:
                    page.screenshot(path=str(OUTPUT / name), full_page=True)
                except Exception as exc:  # a crashed page: the log says why
                    print(f"no screenshot {name}: {exc}")
    for context in contexts:
        context.close()
