"""Every runner status has its own plain message; errors never leak as app stack traces."""

from __future__ import annotations

from app.protocol import STATUSES, ErrorInfo, RunResult
from app.ui.messages import progress_message, status_message


def test_every_status_has_its_own_headline() -> None:
    headlines = {status: status_message(RunResult(status=status)).headline  # type: ignore[arg-type]
                 for status in STATUSES}
    assert len(set(headlines.values())) == len(STATUSES)
    assert all("Unknown status" not in text for text in headlines.values())


def test_timeout_message_names_the_limit() -> None:
    message = status_message(RunResult(status="timeout"))
    assert message.headline.startswith("Time limit reached")
    assert message.tone == "warning"


def test_runner_sentence_is_kept() -> None:
    result = RunResult(status="rejected", message="Code is larger than 100 KiB.")
    assert status_message(result).detail == "Code is larger than 100 KiB."


def test_error_names_the_exception() -> None:
    result = RunResult(status="error", error=ErrorInfo("TypeError", "bad", 3))
    assert "TypeError" in status_message(result).headline


def test_progress_shows_queue_position() -> None:
    assert "position 3" in progress_message("queued", 3)
    assert progress_message("running", None).startswith("Running")
