"""The image built and run by a real container engine: deploy/container-check.sh.

docker where its daemon answers, else podman (scripts/system-deps.sh installs it): the base image
(pulled, or the debootstrap stand-in cached under /var/tmp/jax-playground-container), the build,
the run with the documented options, health, a sandboxed run, the hostile suite inside the
container, the start page, stop and cleanup. Without an engine (no root to install podman), the
older replay without one runs instead (deploy/container_check.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^container: built in (\d+) s, healthy in ([\d.]+) s, "
                     r"layers on (\d+)/(\d+), hostile (\d+)/(\d+)$", re.M)


def _engine_here() -> bool:
    from deploy import engine

    return engine.docker_works() or (shutil.which("podman") is not None and os.geteuid() == 0)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_image_built_and_run_by_a_real_engine() -> None:
    if not _engine_here():
        pytest.skip("no container engine (podman as root, or a docker daemon)")
    proc = subprocess.run([str(REPO / "deploy" / "container-check.sh")],
                          env={**os.environ, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=2350, check=False)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-6000:]
    found = SUMMARY.search(proc.stdout)
    assert found is not None, report[-3000:]
    on, layers, passed, cases = (int(found.group(i)) for i in (3, 4, 5, 6))
    assert on == layers and layers >= 18, found.group(0)
    assert passed == cases and cases >= 50, found.group(0)
    assert "sandboxed run ok" in proc.stdout and "start page answers" in proc.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_dockerfile_steps_replayed_without_an_engine() -> None:
    if _engine_here():
        pytest.skip("a real engine is here: test_image_built_and_run_by_a_real_engine runs")
    args = [sys.executable, "-m", "deploy.container_check", "--smoke-run"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=880, check=False,
                          cwd=REPO)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-4000:]
    assert "[container-check] PASS" in proc.stdout
    assert "healthy" in proc.stdout


def test_layers_count_a_cgroup_layer_on_where_its_replacement_held() -> None:
    from deploy import engine_check

    layers = {"net_ns": True, "rlimits": True, "cgroup_memory": False, "cgroup_pids": False,
              "cgroup_cpu": False, "user_ns": True, "rlimit_as": True, "rlimit_nproc": False}
    on, total, notes = engine_check.layers_on(layers)
    assert (on, total) == (4, 5)  # cgroup_pids has no replacement here
    assert notes == ["cgroup_memory by rlimit_as", "cgroup_cpu by rlimits"]


def test_stand_in_key_changes_with_its_inputs() -> None:
    from deploy import engine

    assert engine.stand_in_key("http://a/debian") != engine.stand_in_key("http://b/debian")
    assert engine.stand_in_key("http://a/debian") == engine.stand_in_key("http://a/debian")


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
