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
    if (REPO / "app" / "runner" / "api" / "cli.py").exists():
        args.append("--smoke-run")  # one snippet through the installed sandbox, as the user
    proc = subprocess.run(args, capture_output=True, text=True, timeout=880, check=False)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-4000:]
    assert "[container-check] PASS" in proc.stdout
    assert "healthy" in proc.stdout


# --- the replay's pieces, fast -------------------------------------------------------------


def test_build_context_follows_dockerignore() -> None:
    from deploy import container_check, dockerfile

    patterns = dockerfile.ignore_patterns(REPO / ".dockerignore")
    files = {p.relative_to(REPO).as_posix() for p in container_check.context_files(patterns)}
    assert {"app/config.py", "scripts/serve.sh", "deploy/healthcheck.py",
            "requirements.txt"} <= files
    assert not any(f.startswith((".venv/", ".git/", "tests/")) or "__pycache__" in f
                   for f in files)


def test_base_image_maps_to_this_hosts_python_of_the_same_version() -> None:
    from deploy import container_check

    python = container_check.base_python("python:3.11-slim-bookworm")
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout
    assert version.strip() == "(3, 11)"
    with pytest.raises(container_check.CheckFailed, match="only python"):
        container_check.base_python("debian:bookworm")


def test_apt_lines_are_verified_not_run() -> None:
    from deploy import container_check

    container_check.verify_apt("apt-get update && apt-get install -y --no-install-recommends "
                               "bash && rm -rf /var/lib/apt/lists/*")
    with pytest.raises(container_check.CheckFailed, match="not installed"):
        container_check.verify_apt("apt-get install -y no-such-package-here")
