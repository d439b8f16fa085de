"""Planning the compilation-cache warm-up: which cache it fills, and which snippets to compile.

The supervisor runs the plan (trusted runs, one at a time, while no user run waits); this module
only names the markers and lists the requests. A marker file says a cache is filled already: the
warm marker for the warm-up run itself, the snippets marker for the shipped snippets.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Settings
from app.protocol import RunRequest
from app.runner import child as child_module
from app.runner import platform as platform_module


def warm_marker_path(settings: Settings, info: platform_module.PlatformInfo) -> Path:
    """Names the cache contents: the same JAX, flags and devices give the same entries."""
    from importlib.metadata import version

    key = json.dumps([version("jax"), version("jaxlib"), info.env.get("XLA_FLAGS"),
                      info.platform, info.device_count, sys.version,
                      child_module.WARMUP_CODE])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return platform_module.compile_cache_dir(settings) / f"warm-{digest}"


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
