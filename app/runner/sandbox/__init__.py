"""The sandbox of one run: which layers this host can give, and applying them in the child.

API used by the runner (supervisor and zygote):
    probe() -> dict[str, bool]                     which layers this host can provide
    enter_child(settings, scratch) -> dict[str, bool]
        in a freshly forked child of the single-threaded zygote, before the JAX backend starts;
        applies every layer and returns which are active.
    RunCgroup(run_id, settings)                    one per run, created by the supervisor

Layers are listed in LAYERS; README "Sandbox" says what each needs from the host.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Settings
from app.runner.sandbox import environment, rlimits
from app.runner.sandbox.cgroups import RunCgroup

__all__ = ["LAYERS", "RunCgroup", "SandboxUnavailable", "enter_child", "probe"]

LAYERS: tuple[str, ...] = ("session", "rlimits", "environment")


class SandboxUnavailable(RuntimeError):
    """A layer that the operator requires (PLAYGROUND_REQUIRE_SANDBOX) is not available here."""


def required_layers(settings: Settings) -> list[str]:
    names = [n.strip() for n in settings.require_sandbox.split(",") if n.strip()]
    return list(LAYERS) if names == ["all"] else names


def _check_required(settings: Settings, active: dict[str, bool]) -> None:
    missing = [name for name in required_layers(settings) if not active.get(name, False)]
    if missing:
        raise SandboxUnavailable(
            "required sandbox layer(s) unavailable on this host: " + ", ".join(missing)
        )


def probe(settings: Settings | None = None) -> dict[str, bool]:
    """Which layers this host can provide; raises SandboxUnavailable for a missing required one."""
    layers = dict.fromkeys(LAYERS, True)
    if settings is not None:
        _check_required(settings, layers)
    return layers


def enter_child(settings: Settings, scratch: Path) -> dict[str, bool]:
    """Apply every layer to the calling (freshly forked) process; return which are active."""
    active: dict[str, bool] = {}
    try:
        os.setsid()
        active["session"] = True
    except OSError:
        active["session"] = os.getsid(0) == os.getpid()
    environment.scrub(scratch)
    active["environment"] = True
    os.chdir(scratch)
    rlimits.apply(settings)
    active["rlimits"] = True
    _check_required(settings, active)
    return active
