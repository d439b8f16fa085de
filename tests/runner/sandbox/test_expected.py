"""Where CI expects the whole sandbox, a missing layer fails its test instead of skipping it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROBE = '''
from tests.runner.sandbox_expected import missing, needs


def test_missing() -> None:
    missing("no cgroups on this host")


@needs(False, "no namespaces on this host")
def test_needs(tmp_path) -> None:
    raise AssertionError("never runs")
'''


def _outcomes(tmp_path: Path, **env: str) -> str:
    (tmp_path / "test_probe.py").write_text(PROBE)
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "PLAYGROUND_REQUIRE_SANDBOX")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
        cwd=REPO, env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True, text=True, timeout=120, check=False)
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("env", [{"CI": "true"}, {"PLAYGROUND_REQUIRE_SANDBOX": "all"}])
def test_a_missing_layer_fails_where_the_sandbox_is_expected(tmp_path: Path,
                                                              env: dict[str, str]) -> None:
    assert _outcomes(tmp_path, **env).startswith("2 failed")


def test_a_missing_layer_is_skipped_on_a_developers_machine(tmp_path: Path) -> None:
    assert _outcomes(tmp_path).startswith("2 skipped")
