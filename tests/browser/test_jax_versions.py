"""Compare versions in the browser: one code, every JAX runtime, the outcomes side by side."""

from __future__ import annotations

from typing import Any

import pytest

from app import runtimes
from app.config import Settings
from tests.browser.test_app import open_app, set_code, wait_idle, wait_text

pytestmark = pytest.mark.browser
INSTALLED = [r.id for r in runtimes.installed(Settings())]

# jax.core.new_jaxpr_eqn: there on JAX 0.4.38, removed in JAX 0.11.
CODE = "import jax\nprint('has new_jaxpr_eqn:', hasattr(jax.core, 'new_jaxpr_eqn'))\n"


@pytest.mark.skipif(not {"0.4.38"} <= set(INSTALLED) or not INSTALLED[0].startswith("0.12"),
                    reason="needs the 0.4.38 and 0.12 runtimes (make setup)")
def test_compare_versions_shows_both_outcomes_side_by_side(app_url: str,
                                                           new_page: Any) -> None:
    page = new_page()
    open_app(page, app_url, "playground")
    # The sidebar offers every runtime, newest first.
    wait_text(page, "JAX version")
    set_code(page, CODE)
    wait_idle(page)
    page.get_by_role("button", name="Compare versions").first.click()
    # The table comes once every version's run is done (the live panel shows them meanwhile).
    page.get_by_role("heading", name="Compare versions").first.wait_for(timeout=180_000)
    columns = page.locator('[data-testid="stColumn"]').filter(has_text="has new_jaxpr_eqn:")
    columns.first.wait_for()
    texts = [columns.nth(i).inner_text() for i in range(columns.count())]
    newest = next(t for t in texts if f"JAX {INSTALLED[0]}" in t and "new_jaxpr_eqn: False" in t)
    oldest = next(t for t in texts if "JAX 0.4.38" in t and "new_jaxpr_eqn: True" in t)
    assert "jaxlib 0.4.38" in oldest and "Python 3." in oldest
    assert f"jaxlib {INSTALLED[0]}" in newest
    # The two columns sit side by side: same row, the newest (the default) on the left.
    left = columns.filter(has_text=f"JAX {INSTALLED[0]}").first.bounding_box()
    right = columns.filter(has_text="JAX 0.4.38").first.bounding_box()
    assert left is not None and right is not None
    assert left["x"] < right["x"] and abs(left["y"] - right["y"]) < 5
