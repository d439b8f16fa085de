"""`python -m app check --exercises`: every exercise's solution must pass its check and its
starter must fail it, each run through the real sandboxed runner on its own (one exercise, one
fresh process: a run never sees another exercise's code).

Prints one line per exercise and ends with exactly `N exercises: N solutions pass, N starters
fail`; the exit status is 0 only when every solution passes and every starter fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from app.exercises import DEFAULT_ROOT, Exercise, ExerciseError, load_exercises_fresh
from app.protocol import RunRequest, RunResult
from app.runtimes import UnknownRuntime
from app.snippet_check import RunsRequests, runtime_ids
from app.snippets import SnippetError


@dataclass(frozen=True)
class ExerciseRow:
    exercise: Exercise
    solution: RunResult
    starter: RunResult

    @property
    def solution_passes(self) -> bool:
        return self.solution.check is not None and self.solution.check.passed

    @property
    def starter_fails(self) -> bool:
        """The starter ran and its check failed on a named case (not a crash or a time-out)."""
        check = self.starter.check
        return (self.starter.status in ("ok", "error") and check is not None
                and not check.passed and bool(check.case))

    @property
    def ok(self) -> bool:
        return self.solution_passes and self.starter_fails


def describe(result: RunResult) -> str:
    """One line: the check's verdict, or why there is none."""
    check = result.check
    if check is None:
        return f"no check result ({result.status}: {result.message})"
    if check.passed:
        return f"passed ({len(check.passed_cases)} cases)"
    return f"failed case {check.case!r}: {check.message}"


def line(row: ExerciseRow) -> str:
    mark = "ok  " if row.ok else "FAIL"
    return (f"{mark} {row.exercise.id}: solution {describe(row.solution)}; "
            f"starter {describe(row.starter)}")


def summary(rows: Sequence[ExerciseRow]) -> str:
    passing = sum(r.solution_passes for r in rows)
    failing = sum(r.starter_fails for r in rows)
    return f"{len(rows)} exercises: {passing} solutions pass, {failing} starters fail"


def run_exercises(exercises: Sequence[Exercise], runner: RunsRequests, jobs: int = 1,
                  timeout_s: float | None = None,
                  on_row: Callable[[ExerciseRow], None] | None = None,
                  jax: str | None = None) -> list[ExerciseRow]:
    """Solution and starter of each exercise, each in its own run, on one JAX runtime (None:
    the default); rows in the given order."""

    def request(exercise: Exercise, code: str) -> RunRequest:
        return replace(exercise.request(code, timeout_s), jax=jax)

    def one(exercise: Exercise) -> ExerciseRow:
        row = ExerciseRow(exercise,
                          solution=runner.run(request(exercise, exercise.solution)),
                          starter=runner.run(request(exercise, exercise.starter)))
        if on_row is not None:
            on_row(row)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, exercises))


def check_exercises_command(args: argparse.Namespace) -> int:
    from app.runner.factory import get_runner

    root = Path(args.path) if args.path and args.path != "snippets" else DEFAULT_ROOT
    try:
        exercises = load_exercises_fresh(root).exercises
    except (ExerciseError, SnippetError) as exc:
        print(f"invalid exercise: {exc}", file=sys.stderr)
        return 2
    if not exercises:
        print(f"no exercises under {root}", file=sys.stderr)
        return 2
    runner = get_runner()
    jobs = args.jobs or runner.settings.max_concurrent
    try:
        versions: list[str | None] = (
            list(runtime_ids(args.runtimes)) if getattr(args, "runtimes", None) else [None])
    except UnknownRuntime as exc:
        print(str(exc), file=sys.stderr)
        return 2
    all_ok = True
    for version in versions:
        rows = run_exercises(exercises, runner, jobs=jobs,
                             timeout_s=runner.settings.max_timeout_s, jax=version,
                             on_row=lambda row: print("." if row.ok else "F", end="",
                                                      file=sys.stderr, flush=True))
        print(file=sys.stderr)
        prefix = f"JAX {version}: " if version else ""
        for row in rows:
            print(prefix + line(row))
        print(prefix + summary(rows))
        all_ok = all_ok and all(r.ok for r in rows)
    return 0 if all_ok else 1
