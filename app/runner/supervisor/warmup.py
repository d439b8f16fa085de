"""The compilation-cache warm-up: which cache it fills, which snippets to compile, how far it got.

The supervisor runs the plan (trusted runs, one at a time, while no user run waits); this module
names the markers, lists the requests and keeps the progress the status reports. A marker file
says a cache is filled already: the warm marker for the warm-up run itself, the snippets marker
for the shipped snippets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as platform_module
from app.runner.supervisor.pool import PendingRun
from app.runner.zygote import child as child_module

WARMUP_TIMEOUT_S = 120.0


def warm_marker_path(settings: Settings, info: platform_module.PlatformInfo) -> Path:
    """Names the cache contents: the same JAX, flags and devices give the same entries."""
    from importlib.metadata import version

    key = json.dumps([version("jax"), version("jaxlib"), info.env.get("XLA_FLAGS"),
                      info.platform, info.device_count, sys.version,
                      child_module.WARMUP_CODE])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    # The runtime's own cache dir (platform.runtime_cache_dir): its JAX made what is in it.
    folder = info.env.get("JAX_COMPILATION_CACHE_DIR")
    return (Path(folder) if folder else platform_module.compile_cache_dir(settings)) / \
        f"warm-{digest}"


@dataclass
class SnippetPlan:
    marker: Path  # touched once every snippet is compiled
    requests: list[RunRequest] = field(default_factory=list)  # empty: nothing to do


def plan_snippets(warm_marker: Path) -> SnippetPlan:
    """The shipped snippets to compile into the cache warm_marker names, unless done already."""
    snippets = _shipped_snippets()
    digest = hashlib.sha256(json.dumps([warm_marker.name, snippets]).encode())
    marker = warm_marker.with_name(f"snippets-{digest.hexdigest()[:16]}")
    if not snippets or marker.exists():
        return SnippetPlan(marker)
    return SnippetPlan(marker, [RunRequest(code=code, x64=x64) for code, x64 in snippets])


def warmup_request() -> RunRequest:
    """The trusted warm-up run: imports and a small jit, so the cache holds the common entries."""
    return RunRequest(code=child_module.WARMUP_CODE)


def _shipped_snippets() -> list[tuple[str, bool]]:
    """(code, x64) of every snippet in the library; none if the library cannot be read."""
    try:
        from app.snippets import load_library

        return [(s.code, s.x64) for s in load_library().all_snippets()]
    except Exception as exc:  # a broken library must not stop the runner
        print(f"snippet warm-up skipped: {exc}", file=sys.stderr)
        return []


class Progress:
    """The warm-up as the status reports it (`state`), and the snippet runs still to do."""

    def __init__(self, settings: Settings, info: platform_module.PlatformInfo,
                 snippets: bool) -> None:
        self.settings = settings
        self.snippets = snippets  # also compile the shipped snippets, after the warm-up
        self.state: dict[str, Any] = {"done": False}
        self.marker = warm_marker_path(settings, info)
        self.background: deque[PendingRun] = deque()
        self.snippets_marker = self.marker
        self.snippets_total = self.snippets_warmed = 0
        if self.marker.exists():  # an earlier supervisor filled this cache already
            self.state = {"done": True, "ok": True, "status": "cached"}
            self.plan_snippets()

    @property
    def done(self) -> bool:
        return bool(self.state["done"])

    def plan_snippets(self) -> None:
        if not self.snippets:
            return
        plan = plan_snippets(self.marker)
        self.snippets_marker = plan.marker
        if not plan.requests:
            return
        self.snippets_total = len(plan.requests)
        self.state["snippets"] = f"0/{self.snippets_total}"
        now = time.monotonic()
        self.background = deque(
            PendingRun(None, request, now, self.settings.max_timeout_s,
                       trusted=True, background=True)
            for request in plan.requests
        )

    def warmup_run(self) -> PendingRun:
        return PendingRun(None, warmup_request(), time.monotonic(), WARMUP_TIMEOUT_S,
                          trusted=True)

    def started(self) -> None:
        self.state["started"] = time.time()

    def lost(self, run: PendingRun) -> None:
        """Its run died with the zygote: do it again once the zygote is back."""
        if run.background:
            self.background.appendleft(run)
        else:
            self.state = {"done": False}

    def snippet_done(self) -> None:
        self.snippets_warmed += 1
        self.state["snippets"] = f"{self.snippets_warmed}/{self.snippets_total}"
        if not self.background:
            with contextlib.suppress(OSError):
                self.snippets_marker.touch()

    def finished(self, result: RunResult) -> None:
        """The warm-up run's result: on success the cache is marked filled, snippets follow."""
        self.state.update(done=True, ok=result.status == "ok", status=result.status,
                          seconds=round(result.duration_s, 2))
        if result.status != "ok":
            self.state["message"] = (result.message + " " + result.stderr)[-500:]
        else:
            with contextlib.suppress(OSError):
                self.marker.touch()
            self.plan_snippets()

    def dropped(self) -> None:
        self.state.update(done=True, ok=False, status="dropped")
