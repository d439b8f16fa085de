"""`python -m app run`: readable and JSON output, files and standard input, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.runner.platform import REPO_ROOT


def app_run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "run", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=str(REPO_ROOT),
        timeout=240,
    )


def test_run_file_readable(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "import sys\nimport jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"
        "print('note', file=sys.stderr)\njnp.ones(2)\n"
    )
    done = app_run(str(snippet))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "3"
    assert "Array([1., 1.], dtype=float32)" in done.stdout
    assert "note" in done.stderr
    assert "[ok]" in done.stderr


def test_run_stdin_json_error_exit_code() -> None:
    done = app_run("-", "--json", stdin="x = 1\nraise ValueError('bad value')\n")
    assert done.returncode == 1
    result = json.loads(done.stdout)  # one JSON object and nothing else on stdout
    assert result["status"] == "error"
    assert result["error"] == {
        "type": "ValueError",
        "message": "bad value",
        "line": 2,
        "traceback": result["error"]["traceback"],
        "advice": None,
    }
    assert "duration_s" in result and "peak_memory_mb" in result and "sandbox" in result
    assert result["truncated"] is False


def test_run_timeout_and_x64_flags() -> None:
    done = app_run("-", "--json", "--timeout", "1", "--x64",
                   stdin="import jax.numpy as jnp\nprint(jnp.arange(2).dtype)\n"
                   "import time\ntime.sleep(30)\n")
    result = json.loads(done.stdout)
    assert done.returncode == 1
    assert result["status"] == "timeout"
    assert result["stdout"] == "int64\n"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    done = app_run(str(tmp_path / "nope.py"))
    assert done.returncode == 1
    assert "cannot read" in done.stderr


def _installed() -> list[str]:
    from app import runtimes
    from app.config import Settings

    return [r.id for r in runtimes.installed(Settings())]


def test_run_on_a_named_jax_version_says_so_in_the_json() -> None:
    ids = _installed()
    if not ids:
        import pytest

        pytest.skip("no JAX runtime installed (make setup)")
    oldest = ids[-1]
    done = app_run("-", "--json", "--jax", oldest, stdin="import jax\nprint(jax.__version__)\n")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stdout"] == f"{oldest}\n"
    assert result["runtime"]["id"] == oldest and result["runtime"]["jax"] == oldest
    assert result["runtime"]["jaxlib"] and result["runtime"]["python"].startswith("3.")


def test_an_unknown_jax_version_is_a_clear_error_before_any_run() -> None:
    done = app_run("-", "--json", "--jax", "0.0.7", stdin="print(1)\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "JAX '0.0.7' is not available here" in done.stderr
