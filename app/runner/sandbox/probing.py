"""Which layers this host provides: enter_child run in a throwaway process, a cgroup tried."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import uuid

from app.config import Settings
from app.runner.sandbox import (
    cgroups,
    mounts,
)
from app.runner.sandbox.cgroups import RunCgroup
from app.runner.sandbox.layers import CHILD_LAYERS, INFO_LAYERS, LAYERS, check_required

_PROBE_TIMEOUT_S = 30.0

_probed: dict[str, bool] | None = None


def probe(settings: Settings | None = None) -> dict[str, bool]:
    """Which layers this host provides: enter_child run for real in a throwaway process, and a
    cgroup created and removed. Cached. Raises SandboxUnavailable for a missing required layer."""
    global _probed
    if settings is None:
        from app.config import settings as configured

        settings = configured()
    if _probed is None:
        _probed = _probe_child(settings) | _probe_cgroup(settings)
    check_required(settings, _probed, LAYERS)
    return dict(_probed)


def _probe_cgroup(settings: Settings) -> dict[str, bool]:
    # Supervisors start by probing: the right moment to clear what dead ones left behind.
    cgroups.sweep_stale()
    group = RunCgroup(f"probe-{os.getpid()}-{uuid.uuid4().hex[:8]}", settings)
    try:
        return group.layers()
    finally:
        group.remove()


def _probe_child(settings: Settings) -> dict[str, bool]:
    lenient = dataclasses.replace(settings, require_sandbox="")
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as scratch:
        os.chmod(scratch, 0o700)
        code = (
            "import json, sys; from pathlib import Path; from app.config import Settings; "
            "from app.runner.sandbox.entry import enter_child; "
            "active = enter_child(Settings(**json.loads(sys.argv[1])), Path(sys.argv[2])); "
            "sys.stdout.write(json.dumps(active)); sys.stdout.flush()"
        )
        try:
            done = subprocess.run(
                [sys.executable, "-c", code, json.dumps(dataclasses.asdict(lenient)), scratch],
                capture_output=True,
                cwd=str(mounts.REPO_ROOT),
                env={**os.environ, "PYTHONPATH": str(mounts.REPO_ROOT)},
                timeout=_PROBE_TIMEOUT_S,
                check=False,
            )
            active = json.loads(done.stdout or b"{}")
        except (OSError, ValueError, subprocess.TimeoutExpired):
            active = {}
    return {name: bool(active.get(name, False)) for name in CHILD_LAYERS + INFO_LAYERS}
