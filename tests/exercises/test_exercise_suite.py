"""Every exercise through the real sandboxed runner: its solution passes its check, its starter
fails it on a named case, with a message. Each program runs alone in its own fresh process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from app.exercise_check import ExerciseRow, line, summary
from app.exercises import load_exercises

EXERCISES = load_exercises().exercises
GENERIC_CASES = {"your code runs to the end", "the check runs", "the check's tools are untouched"}


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_solution_passes_and_starter_fails_on_a_named_case(runner, exercise) -> None:
    timeout = runner.settings.max_timeout_s
    with ThreadPoolExecutor(2) as pool:  # both running slots: the two programs at once
        solution, starter = pool.map(
            runner.run, [exercise.request(exercise.solution, timeout),
                         exercise.request(exercise.starter, timeout)])
    row = ExerciseRow(exercise, solution, starter)
    assert row.solution_passes, f"{line(row)}\n{solution.stderr[-2000:]}"
    assert row.starter_fails, f"{line(row)}\n{starter.stderr[-2000:]}"
    check = starter.check
    assert check is not None and check.case not in GENERIC_CASES, line(row)
    assert len(check.message) > 20, f"the failure should teach something: {check.message!r}"
    # It stopped at the failing case: fewer cases passed than the solution passes.
    assert len(check.passed_cases) < len(solution.check.passed_cases)


def test_the_summary_line_is_exactly_as_documented() -> None:
    assert summary([]) == "0 exercises: 0 solutions pass, 0 starters fail"
