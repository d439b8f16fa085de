"""A room end to end in three browser contexts: a facilitator creates it, two participants join,
one passes an exercise and the other fails one, the dashboard shows both within 5 s; the app
server is restarted and both participants find their code and progress again."""

from __future__ import annotations

import os
import re
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
        # A first check on a loaded machine (a shared CI box) may take longer than the default.
        self.env.setdefault("PLAYGROUND_TIMEOUT_S", "30")
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.server", "run", "app/main.py",
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
    """A cell of the dashboard's grid (an HTML table) with exactly this text."""
    page.locator('[data-testid="room-grid"] td').filter(
        has_text=re.compile(f"^{re.escape(text)}$")).first.wait_for(
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
    grid_cell(facilitator, "✓")
    grid_cell(facilitator, "✗1")
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
    grid_cell(facilitator, "✓")


# --- the afternoon of a facilitator, with screenshots for docs/instructors-guide.md ----------

SHOTS = ROOT / "docs" / "screenshots"
COUNT = load_exercises().by_id("pytrees/count-parameters")
PHONE = {"width": 390, "height": 844}


def shot(page: Any, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def grid_rows(page: Any) -> list[str]:
    """The participants' names, top to bottom, as the dashboard grid shows them now."""
    return [str(t).strip() for t in
            page.locator('[data-testid="room-grid"] tbody td.name').all_inner_texts()]


def store_of(server: Server) -> Any:
    from app.rooms.store import Store

    return Store(f"sqlite:///{Path(server.env['PLAYGROUND_DATA_DIR']) / 'playground.db'}")


def test_an_afternoon_with_a_room(server: Server, new_page: Any, tmp_path: Path) -> None:
    import csv

    from app.config import Settings
    from app.protocol import CheckResult, RunResult
    from app.rooms import learners

    assert NANSUM is not None and COUNT is not None
    facilitator = new_page(width=1366, height=900)
    open_page(facilitator, f"{server.url}/rooms")
    facilitator.get_by_label("Room name").fill("JAX onboarding")
    for title in (NANSUM.title, COUNT.title):
        facilitator.locator('[data-testid="stMultiSelect"]').first.click()
        facilitator.keyboard.type(title)
        facilitator.keyboard.press("Enter")
    facilitator.locator("h1").first.click()
    shot(facilitator, "rooms-create")
    facilitator.get_by_role("button", name="Create the room").click()
    facilitator.get_by_text("Recovery code (shown once)").wait_for()
    join_link = str(facilitator.locator("code", has_text="join=").first.inner_text()).strip()
    assert "key=" in facilitator.url  # the dashboard's own address is the facilitator link
    assert facilitator.get_by_role("button", name="Create the room").count() == 0
    shot(facilitator, "rooms-created")

    ada, bob = new_page(), new_page()
    cy = new_page(**PHONE)
    join(ada, join_link, "Ada Lovelace")
    bob_link = join(bob, join_link, "Bob")
    open_page(cy, join_link)
    cy.get_by_label("Your display name").fill("Cy (phone)")
    shot(cy, "rooms-join-phone")
    cy.get_by_role("button", name="Join").click()
    cy.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
    cy_link = str(cy.url)

    check(bob, NANSUM.starter + "# Bob was here\n")
    bob.get_by_text("Not yet.").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    shot(bob, "rooms-participant-failed")
    check(ada, NANSUM.solution)
    ada.get_by_text("Passed").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    check(cy, NANSUM.starter + "# Cy on a phone\n")
    # Her verdict, or (on a machine loaded past the run's time limit) the run stopped: the
    # phone's part here is joining and reading; the verdicts are Bob's and Ada's.
    cy.get_by_text(re.compile("Not yet.|The check did not finish")).first.wait_for(
        timeout=RESULT_TIMEOUT_MS)
    # Two more failures of Bob's, recorded as his checks are: three make him "stuck".
    db = store_of(server)
    bob_who = learners.learner(db, bob_link.split("p=")[1])
    failed = RunResult(status="ok", check=CheckResult(False, case="nansum of [0.5, nan]",
                                                      message="wrong"))
    for n in range(2):
        learners.record_attempt(db, Settings(), bob_who, NANSUM.id, f"bob-{n}", "# again\n",
                                failed)
    db.close()

    # Sorted "stuck first" by default, flagged, redrawn by itself.
    facilitator.locator('[data-testid="room-grid"] td.name', has_text="Bob").wait_for()
    facilitator.locator('[data-testid="room-grid"] .pg-stuck').wait_for(
        timeout=DASHBOARD_WITHIN_MS * 2)
    assert grid_rows(facilitator)[0] == "Bob"
    facilitator.get_by_text("Passing solutions (1").wait_for(timeout=DASHBOARD_WITHIN_MS)
    facilitator.locator('[data-testid="stButtonGroup"] button', has_text="Least progress").click()
    facilitator.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"room-grid\"] tbody td.name')]"
        ".pop().innerText.trim() === 'Ada Lovelace'")
    facilitator.locator('[data-testid="stButtonGroup"] button', has_text="Stuck first").click()
    facilitator.wait_for_function(
        "() => document.querySelector('[data-testid=\"room-grid\"] tbody td.name')"
        ".innerText.trim() === 'Bob'")
    shot(facilitator, "rooms-dashboard", full_page=True)

    # One participant's work: their code, attempts with verdicts.
    picker = facilitator.get_by_label("Open a participant's work")
    picker.click()
    facilitator.keyboard.type("Bob")
    facilitator.keyboard.press("Enter")
    facilitator.locator("code", has_text="# again").first.wait_for()
    facilitator.get_by_text("3 attempt(s)").first.wait_for()
    facilitator.get_by_text("Remove Bob from the room").scroll_into_view_if_needed()
    shot(facilitator, "rooms-participant-detail")

    with facilitator.expect_download() as download:
        facilitator.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    with saved.open() as handle:
        table = list(csv.DictReader(handle))
    assert {r["participant"] for r in table} == {"Ada Lovelace", "Bob", "Cy (phone)"}
    assert len(table) == 3 * 2
    bob_nansum = next(r for r in table if r["participant"] == "Bob"
                      and r["exercise"] == NANSUM.id)
    assert (bob_nansum["state"], bob_nansum["attempts"]) == ("failed", "3")

    facilitator.get_by_text("Close the room").click()
    facilitator.get_by_text("Yes, close it").click()
    facilitator.get_by_role("button", name="Close the room").click()
    facilitator.get_by_text("Closed at").first.wait_for()
    assert "Bob" in grid_rows(facilitator)  # the final grid stays
    facilitator.get_by_role("button", name="Export JSON").wait_for()
    facilitator.locator('[data-testid="stSegmentedControl"], [data-testid="stButtonGroup"]'
                        ).first.scroll_into_view_if_needed()
    shot(facilitator, "rooms-closed")

    for page, link, mine in ((bob, bob_link, "# Bob was here"), (cy, cy_link, None)):
        open_page(page, link)
        page.get_by_text("closed by its facilitator: you can still read your work").wait_for()
        page.frame_locator(EDITOR).first.locator(".ace_content").wait_for()
        if mine:
            assert mine in editor_text(page) or "# again" in editor_text(page)
    shot(cy, "rooms-closed-phone", full_page=True)


def test_a_room_of_30_fits_a_laptop_screen(server: Server, new_page: Any) -> None:
    """30 participants and 8 exercises, written through the store as the pages would: every
    row and column of the grid on a 1366 x 768 screen at once, no name or cell cut."""
    from app.config import Settings
    from app.protocol import CheckResult, RunResult
    from app.rooms import learners, rooms
    from app.rooms.catalogue import Item, catalogue

    cat = catalogue()
    exercises = [e.id for e in cat.exercises.exercises][:8]
    db = store_of(server)
    created = rooms.create_room(db, Settings(), cat, name="Thirty",
                                items=[Item("exercise", e) for e in exercises], ends_at=None,
                                client_id="test")
    now = time.time()
    names = [f"Participant number {n:02d} with a long name" if n % 7 == 0 else f"Person {n:02d}"
             for n in range(30)]
    for n, name in enumerate(names):
        who = learners.learner(db, learners.join_room(db, Settings(), created.room.code, name,
                                                      now=now - 900))
        for k, exercise_id in enumerate(exercises[: n % 9]):
            ok = (n + k) % 3 != 0
            check = CheckResult(True, passed_cases=["c"]) if ok else CheckResult(
                False, case=f"case with {n}.5", message="m")
            learners.record_attempt(db, Settings(), who, exercise_id, f"a{n}-{k}", "x",
                                    RunResult(status="ok", check=check),
                                    now=now - (600 if n % 5 == 0 else 30))
    db.close()
    page = new_page(width=1366, height=768)
    open_page(page, f"{server.url}/rooms?room={created.room.code}&key={created.token}")
    grid = page.locator('[data-testid="room-grid"]')
    grid.wait_for()
    # The grid's top just under Streamlit's sticky header, as a facilitator would scroll.
    page.evaluate(
        "() => { const g = document.querySelector('[data-testid=\"room-grid\"]');"
        " const h = document.querySelector('[data-testid=\"stHeader\"]');"
        " g.scrollIntoView({block: 'start'});"
        " let s = g.parentElement;"
        " while (s && !(s.scrollHeight > s.clientHeight"
        "   && /(auto|scroll)/.test(getComputedStyle(s).overflowY))) s = s.parentElement;"
        " const top = (h ? h.getBoundingClientRect().bottom : 0) + 4;"
        " (s || document.scrollingElement).scrollTop -= top - g.getBoundingClientRect().top; }")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
    shot(page, "rooms-dashboard-30")
    box = grid.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
    assert box["y"] + box["height"] <= 768, box
    # Every row and the header row visible, not under the sticky header or off screen.
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"room-grid\"] tr')].filter(r => {"
        " const b = r.getBoundingClientRect();"
        " const e = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);"
        " return !(e && r.contains(e)); }).map(r => r.innerText)")
    assert hidden == []
    assert grid.locator("tbody tr").count() == 30
    assert grid.locator("thead th").count() == 6 + 8
    cut = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"room-grid\"] td, "
        "[data-testid=\"room-grid\"] th')].filter(c => c.scrollWidth > c.clientWidth + 1 || "
        "c.scrollHeight > c.clientHeight + 1).map(c => c.innerText)")
    assert cut == []
    assert sorted(grid_rows(page)) == sorted(names)  # every name whole
