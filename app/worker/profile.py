"""A profile of a few steady-state calls: jax.profiler.trace into TMPDIR, read back, capped.

TMPDIR is the run's private scratch in the sandbox; the trace directory is removed afterwards.
The Python tracer is off: its events would be the playground's own frames, not the snippet's.
What comes back is every timed event of every plane (host threads, XLA's CPU threads, GPU
streams where there is a GPU) with its lane, op name, start and duration, at most MAX_EVENTS
of them (the longest are kept), so the page can draw a timeline.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.protocol import MAX_PROFILE_EVENTS, Profile, ProfileEvent
from app.worker.compat import NotAvailable

MAX_EVENTS = MAX_PROFILE_EVENTS
MAX_CALLS = 5
BUDGET_S = 0.3  # profiled calls stop after this (at least one call)
_NAME_LIMIT = 160
# Zero-length markers and bookkeeping of XLA's thread pools: not work anyone would look for.
_NOISE = ("ThreadpoolListener::", "end: ")


def _options() -> Any:
    import jax

    if not hasattr(jax.profiler, "ProfileOptions"):
        return None  # an older JAX: its trace() takes no options
    options = jax.profiler.ProfileOptions()
    with contextlib.suppress(Exception):
        options.python_tracer_level = 0
    return options


def _lane(plane: str, line: str) -> str:
    plane = plane.removeprefix("/host:").removeprefix("/")
    return f"{plane} · {line}"[:_NAME_LIMIT]


def read_events(path: Path) -> tuple[list[ProfileEvent], int]:
    """Events of an .xplane.pb as plain data (start relative to the first), and how many cut."""
    from jax.profiler import ProfileData

    data = ProfileData.from_file(str(path))
    raw: list[tuple[str, str, float, float]] = []
    for plane in data.planes:
        for line in plane.lines:
            for event in line.events:
                duration = float(event.duration_ns)
                name = str(event.name)
                if duration <= 0 or name.startswith(_NOISE):
                    continue
                raw.append((_lane(plane.name, line.name), name[:_NAME_LIMIT],
                            float(event.start_ns), duration))
    dropped = max(0, len(raw) - MAX_EVENTS)
    if dropped:
        raw = sorted(raw, key=lambda item: item[3], reverse=True)[:MAX_EVENTS]
    origin = min((item[2] for item in raw), default=0.0)
    events = [ProfileEvent(lane, name, round((start - origin) / 1000, 3), round(dur / 1000, 3))
              for lane, name, start, dur in sorted(raw, key=lambda item: item[2])]
    return events, dropped


def profile_calls(call: Callable[..., Any], make_args: Callable[[], tuple[Any, ...]],
                  block: Callable[[Any], Any]) -> Profile:
    """Profile up to MAX_CALLS calls (BUDGET_S at most) of an already-warm call."""
    import jax

    if not hasattr(jax.profiler, "ProfileData"):  # no reader for the trace it would write
        raise NotAvailable("The profiler timeline")
    options = _options()
    extra = {} if options is None else {"profiler_options": options}
    folder = Path(tempfile.mkdtemp(prefix="profile-"))
    try:
        prepared = [make_args() for _ in range(MAX_CALLS)]
        calls = 0
        with jax.profiler.trace(str(folder), **extra):
            deadline = time.perf_counter() + BUDGET_S
            for args in prepared:
                block(call(*args))
                calls += 1
                if time.perf_counter() > deadline:
                    break
        found = sorted(folder.rglob("*.xplane.pb"))
        if not found:
            return Profile(calls=calls)
        events, dropped = read_events(found[-1])
        return Profile(events=events, calls=calls, dropped=dropped)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
