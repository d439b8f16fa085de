"""The live panel of a run in flight (app/ui/run.py, app/ui/widgets/live.py) under AppTest, with
the real runner: the output so far, the elapsed time against the limit, Stop.

AppTest has no timer to rerun the panel's fragment, so the test reruns the page itself while it
waits, as the browser's timer would (tests/browser/test_control.py drives the real one).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.config import load
from app.protocol import OutputChunk
from app.ui.messages import progress_message
from app.ui.widgets.live import output_tail

ROOT = Path(__file__).resolve().parents[2]
AREA = "playground/blank"
SLOW = "import time\nprint('live line', flush=True)\ntime.sleep(20)\n"


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("info", "success", "markdown", "caption", "code")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def rerun_until(at: AppTest, text: str, timeout_s: float = 120.0) -> str:
    deadline = time.monotonic() + timeout_s
    while text not in (shown := texts(at)):
        assert time.monotonic() < deadline, f"{text!r} never came; the page shows:\n{shown}"
        time.sleep(0.2)
        at.run()
    return shown


def test_a_long_run_shows_its_output_and_time_then_stop_ends_it() -> None:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=180)
    at.run()
    at.switch_page("../pages/playground.py").run()
    at.session_state[f"code::{AREA}"] = SLOW
    at.toggle(key=f"inspect::{AREA}").set_value(False)
    at.button(key=f"run::{AREA}").click().run()
    shown = rerun_until(at, "live line")
    assert "Running in the sandbox…" in shown and " s of 10 s" in shown
    assert "Ran in" not in shown
    at.button(key=f"stop::{AREA}").click().run()
    shown = rerun_until(at, "You stopped the run", timeout_s=10.0)
    assert "live line" in shown  # what it printed is kept
    assert not [b for b in at.button if b.key == f"stop::{AREA}"]


def test_progress_counts_seconds_against_the_limit() -> None:
    assert progress_message("running", None, 3.25, 10.0) == "Running in the sandbox… 3.2 s of 10 s"
    assert progress_message("running", None) == "Running in the sandbox…"
    assert progress_message("queued", 2, None, 10.0).startswith("Queued (position 2)")


def test_the_panel_keeps_the_end_of_a_long_output_in_order() -> None:
    chunks = [OutputChunk("stdout", "a" * 10), OutputChunk("stderr", "b" * 10),
              OutputChunk("stdout", "c" * 10)]
    assert output_tail(chunks, limit=100) == (chunks, False)
    tail, cut = output_tail(chunks, limit=15)
    assert cut and tail == [OutputChunk("stderr", "b" * 5), OutputChunk("stdout", "c" * 10)]
    tail, cut = output_tail(chunks, limit=10)
    assert cut and tail == [OutputChunk("stdout", "c" * 10)]


def test_the_redraw_interval_is_a_setting_with_bounds() -> None:
    assert load({"PLAYGROUND_LIVE_UPDATE_S": "1.5"}).live_update_s == 1.5
    for bad in ("0", "-1", "60"):  # 0 would never redraw: the panel would hang
        with pytest.raises(ValueError, match="PLAYGROUND_LIVE_UPDATE_S"):
            load({"PLAYGROUND_LIVE_UPDATE_S": bad})
