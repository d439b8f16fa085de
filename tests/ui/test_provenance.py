"""Issue 9, item 8: the result says which of its parts the run's own process reported."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _render(value: str | None) -> list[str]:
    def page(value: str | None) -> None:
        from app.protocol import RunResult
        from app.ui.widgets.results import show_output_tab

        show_output_tab(RunResult(status="ok", message="Finished.", value_repr=value,
                                  platform="cpu"), None)

    at = AppTest.from_function(page, args=(value,)).run()
    assert not at.exception
    return [caption.value for caption in at.caption]


def test_a_value_from_the_run_is_marked_as_the_runs_own_word() -> None:
    from app.ui.widgets.results import PROVENANCE

    assert PROVENANCE in _render("forged")
    assert PROVENANCE not in _render(None)  # nothing the run reported: nothing to mark
