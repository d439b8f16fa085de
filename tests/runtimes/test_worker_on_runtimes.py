"""The worker on every installed runtime's own interpreter (Python 3.11 to 3.13, JAX 0.4 to
0.12): every view is made or says it is not available on that version; nothing crashes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app import runtimes
from app.config import Settings

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("worker_probe.py")
INSTALLED = runtimes.installed(Settings())


def _probe(runtime: runtimes.Runtime) -> tuple[dict, str]:
    done = subprocess.run(
        [str(runtimes.interpreter(Settings(), runtime)), str(PROBE)], cwd=REPO,
        capture_output=True, text=True, timeout=300,
        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.skipif(not INSTALLED, reason="no runtime installed (make setup)")
@pytest.mark.parametrize("runtime", INSTALLED, ids=[r.id for r in INSTALLED])
def test_every_view_is_made_or_said_to_be_unavailable(runtime: runtimes.Runtime) -> None:
    found, stderr = _probe(runtime)
    assert found["jax"] == runtime.jax
    report = found["report"]
    assert report["error"] is None
    inspect = report["inspect"]
    for view in ("jaxpr", "stablehlo", "hlo", "cost", "memory"):
        assert inspect[view], f"{view} missing on {runtime.id}: {inspect['warnings']}"
    assert "sine" in inspect["stablehlo"] and "sin" in inspect["jaxpr"]
    assert 4 in inspect["source_lines"]["stablehlo"]  # the snippet's line, on every version
    problems = [w for w in inspect["warnings"] if w.startswith("Could not")]
    assert problems == []
    if inspect["profile"] is None:
        assert f"The profiler timeline is not available on JAX {runtime.jax}." in inspect[
            "warnings"]
    # JAX's compile logs are collected, never printed (0.4 has its own stderr handler).
    assert "Compiling" not in stderr and "TRACING CACHE MISS" not in stderr
