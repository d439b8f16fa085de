"""The profile chart as plotly.js draws it in Chromium (the app's own figure, the plotly.js that
the plotly package ships): the legend covers neither axis, lane names and op names are whole."""

from __future__ import annotations

from typing import Any

import plotly
import pytest

from app.protocol import Profile, ProfileEvent
from app.ui.widgets.profile_view import LEGEND_NAME_CHARS, figure

pytestmark = pytest.mark.browser

LONG = "ThunkExecutor::Execute (wrapped_sine_cosine_fusion)"
TOO_LONG = "custom-call." + "x" * 100
NAMES = ["PjitFunction(f)", "ParseArguments", "multiply_add_fusion.3", LONG, "sin", "cos",
         "reduce-window.12", TOO_LONG]
LANES = ["host: python", "XLA CPU thread 1"]


def _profile() -> Profile:
    return Profile(calls=3, events=[
        ProfileEvent(LANES[i % 2], NAMES[i % len(NAMES)], i * 10.0, 8.0) for i in range(24)])


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_legend_covers_no_axis_and_names_are_whole(browser: Any, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 900, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_content(
            f"<html><body style='margin:0'><div id=p></div>"
            f"<script>{plotly.offline.get_plotlyjs()}</script>"
            f"<script>Plotly.newPlot('p', {figure(_profile()).to_json()})"
            ".then(() => document.title = 'drawn')</script></body></html>")
        page.wait_for_function("document.title === 'drawn'")
        legend = _box(page, ".legend")
        for axis_part in (".xtitle", ".xaxislayer-above", ".yaxislayer-above"):
            assert not _overlap(legend, _box(page, axis_part)), axis_part
        lanes = page.eval_on_selector_all(".ytick text", "els => els.map(e => e.textContent)")
        assert sorted(lanes) == sorted(LANES)
        assert _box(page, ".yaxislayer-above")["x"] >= 0  # lane names are not cut at the left
        shown = page.eval_on_selector_all(".legend .legendtext",
                                          "els => els.map(e => e.textContent)")
        assert LONG in shown
        assert TOO_LONG[:LEGEND_NAME_CHARS - 1] + "…" in shown
    finally:
        context.close()
