"""The Dockerfile built and started for real, without Docker: deploy/container-check.sh.

It installs requirements.txt into a throwaway venv (a few hundred MB, ~20 s with a warm pip
cache), serves the app as the image's non-root user and requires the HEALTHCHECK to pass.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_dockerfile_steps_build_and_serve_a_healthy_app() -> None:
    if not (REPO / "app" / "main.py").exists():
        pytest.skip("app/main.py (the Streamlit entry point) does not exist yet")
    args = [str(REPO / "deploy" / "container-check.sh")]
    if (REPO / "app" / "runner" / "cli.py").exists():
        args.append("--smoke-run")  # one snippet through the installed sandbox, as the user
    proc = subprocess.run(args, capture_output=True, text=True, timeout=880, check=False)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-4000:]
    assert "[container-check] PASS" in proc.stdout
    assert "healthy" in proc.stdout
