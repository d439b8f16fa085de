"""The snippet x JAX version matrix: an outcome judged against what holds on that version."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import runtimes, version_matrix
from app.config import Settings
from app.protocol import ErrorInfo, RunResult, RuntimeInfo
from app.snippet_check import judge, request_for
from app.snippets import parse_snippet
from tests.snippets.helpers import header

REPO = Path(__file__).resolve().parents[2]
VERSIONED = ('[{ until = "0.11", expect = { outcome = "ok", stdout = "old" } }]')


def _snippet(tmp_path: Path):
    path = tmp_path / "change.py"
    path.write_text(header(expect='{ outcome = "KeyError" }', versions=VERSIONED) + "pass\n")
    return parse_snippet(path)


def _result(jax: str, ok: bool) -> RunResult:
    if ok:
        return RunResult(status="ok", stdout="old\n", runtime=RuntimeInfo(jax, jax, jax, "3.12"))
    return RunResult(status="error", error=ErrorInfo("KeyError", "k"),
                     runtime=RuntimeInfo(jax, jax, jax, "3.13"))


def test_a_known_change_is_as_expected_on_both_sides(tmp_path: Path) -> None:
    snippet = _snippet(tmp_path)
    old, new = judge(snippet, _result("0.4.38", ok=True)), judge(snippet, _result("0.12.1", False))
    assert old.ok and new.ok
    columns = {"0.12.1": [new], "0.4.38": [old]}
    text = version_matrix.text_matrix(columns)
    assert "DIFFERS" not in text and text.count("as expected") == 2
    assert version_matrix.summary(columns) == "2 runs on JAX 0.12.1, 0.4.38: all as expected"


def test_an_unknown_change_stands_out_with_its_reason(tmp_path: Path) -> None:
    snippet = _snippet(tmp_path)
    # The old outcome on the new version: nobody wrote that down.
    wrong = judge(snippet, _result("0.12.1", ok=True))
    assert not wrong.ok
    columns = {"0.12.1": [wrong]}
    text = version_matrix.text_matrix(columns)
    assert "DIFFERS change on JAX 0.12.1:" in text
    markdown = version_matrix.markdown_matrix(columns, "python -m app check x --runtimes all")
    assert "| `change` | **differs**:" in markdown
    assert version_matrix.summary(columns).endswith("1 DIFFER")


INSTALLED = runtimes.installed(Settings())


@pytest.mark.skipif(len(INSTALLED) < 2, reason="make setup installs the runtimes")
@pytest.mark.parametrize("name", ["empty-is-not-zeros", "removed-core-names"])
def test_the_version_change_snippets_hold_on_every_runtime(runner, name: str) -> None:
    snippet = parse_snippet(REPO / "snippets" / "04-sharp-bits" / f"{name}.py")
    outcomes = set()
    for runtime in INSTALLED:
        result = runner.run(request_for(snippet, timeout_s=60, jax=runtime.id))
        row = judge(snippet, result)
        assert row.ok, (runtime.id, row.detail)
        assert result.runtime is not None
        outcomes.add(snippet.expect_for(result.runtime.jax))
    assert len(outcomes) == 2  # both sides of the change were run and held
