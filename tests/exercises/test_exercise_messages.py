"""Every starter's failure teaches: beyond what went wrong (often two numbers), the message says
what to try. Through the real sandboxed runner, starters only."""

from __future__ import annotations

import re

import pytest

from app.exercises import load_exercises

EXERCISES = load_exercises().exercises
WORDS = re.compile(r"\b[A-Za-z_]{2,}\b")
NUMBERS_ONLY = {"should", "be", "but", "it", "is", "not", "have", "shape", "got", "Array",
                "dtype", "float32", "nan", "inf"}


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_a_starters_failure_says_what_to_try(runner, exercise) -> None:
    result = runner.run(exercise.request(exercise.starter, runner.settings.max_timeout_s))
    assert result.check is not None and not result.check.passed, result.message
    message = result.check.message
    words = [w for w in WORDS.findall(message) if w not in NUMBERS_ONLY]
    # "d loss / d b should be -3.15, but it is 6.55." has 4 such words; a hint adds a dozen or more.
    assert len(words) >= 12, f"{exercise.id}: the failure does not say what to try: {message!r}"
    assert "`" in message, f"{exercise.id}: no code named in {message!r}"
