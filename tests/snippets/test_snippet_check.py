"""`check` itself: judging real runs, and `python -m app check` end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.protocol import RunResult
from app.snippet_check import (
    collect,
    judge,
    markdown_report,
    outcome_of,
    request_for,
    text_table,
)
from app.snippets import parse_snippet
from tests.snippets.helpers import header, make_section

REPO = Path(__file__).resolve().parents[2]


def _snippet(tmp_path: Path, name: str, expect: str, code: str):
    path = tmp_path / f"{name}.py"
    path.write_text(header(expect=expect) + code)
    return parse_snippet(path)


CASES = [
    # (name, expect, code, should match)
    ("ok-as-expected", '{ outcome = "ok", stdout = "hello" }', "print('hello')\n", True),
    ("stdout-missing", '{ outcome = "ok", stdout = "goodbye" }', "print('hello')\n", False),
    ("raises-as-expected", '{ outcome = "ValueError", message = "boom" }',
     "raise ValueError('boom here')\n", True),
    ("wrong-message", '{ outcome = "ValueError", message = "bang" }',
     "raise ValueError('boom')\n", False),
    ("unexpected-error", '"ok"', "1 / 0\n", False),
    ("missing-error", '"KeyError"', "x = 1\n", False),
    ("wrong-exception", '"KeyError"', "raise IndexError('i')\n", False),
]


@pytest.mark.parametrize(("name", "expect", "code", "matches"), CASES, ids=[c[0] for c in CASES])
def test_judge_on_real_runs(runner, tmp_path: Path, name, expect, code, matches) -> None:
    snippet = _snippet(tmp_path, name, expect, code)
    row = judge(snippet, runner.run(request_for(snippet)))
    assert row.ok is matches, row.detail
    assert bool(row.detail) is not matches


def test_outcome_of_uses_status_when_there_is_no_exception() -> None:
    assert outcome_of(RunResult(status="timeout")) == "timeout"
    assert outcome_of(RunResult(status="ok")) == "ok"


def test_timeout_is_a_mismatch_for_ok(runner, tmp_path: Path) -> None:
    snippet = _snippet(tmp_path, "spin", '"ok"', "while True:\n    pass\n")
    request = request_for(snippet)
    request.timeout_s = 1.0
    row = judge(snippet, runner.run(request))
    assert not row.ok
    assert row.got == "timeout"


def test_collect_accepts_library_section_and_file() -> None:
    root = REPO / "snippets"
    everything = collect(root)
    section = collect(root / "04-sharp-bits")
    one = collect(root / "04-sharp-bits" / "print-in-jit.jax.py")
    assert len(everything) > len(section) > 1
    assert {s.id for s in section} <= {s.id for s in everything}
    assert [s.id for s in one] == ["sharp-bits/print-in-jit.jax"]


def test_reports_show_each_row(runner, tmp_path: Path) -> None:
    good = _snippet(tmp_path, "good", '"ok"', "print(1)\n")
    bad = _snippet(tmp_path, "bad", '"ok"', "raise RuntimeError('nope')\n")
    rows = [judge(s, runner.run(request_for(s))) for s in (good, bad)]
    table = text_table(rows)
    assert "FAIL bad: RuntimeError: nope" in table
    report = markdown_report(rows, guide_block_count=1)
    assert "| ok | `good` |" in report
    assert "| **FAIL** | `bad` |" in report
    assert "## Mismatches" in report
    assert "Guide coverage: python blocks without a snippet: 1." in report


@pytest.mark.slow
def test_check_command_end_to_end(tmp_path: Path) -> None:
    """`python -m app check DIR --markdown FILE` with one good and one wrong snippet: exit 1."""
    library = tmp_path / "lib"
    make_section(library, files={
        "fine.py": header(expect='{ outcome = "ok", stdout = "42" }') + "print(42)\n",
        "wrong.py": header(expect='"ok"') + "raise KeyError('missing')\n",
    })
    report = tmp_path / "health.md"
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", str(library), "--markdown", str(report),
         "--jobs", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "basics/fine" in done.stdout
    assert "FAIL basics/wrong: KeyError" in done.stdout
    assert "2 snippets, 1 MISMATCH(ES)" in done.stdout
    text = report.read_text()
    assert "| **FAIL** | `basics/wrong` |" in text
    assert "| ok | `basics/fine` |" in text


@pytest.mark.slow
def test_check_command_passes_on_a_good_section() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", "snippets/02-transformation-composition"],
        cwd=REPO, capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all as expected" in done.stdout
