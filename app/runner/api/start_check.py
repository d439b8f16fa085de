"""Refusing to serve the public where one run could take every other run's memory.

A hosted server (PLAYGROUND_HOSTED) whose runs execute on this host starts only where a run's
memory has a bound of its own (limits.memory_bounded: a memory cgroup, or RLIMIT_AS), unless the
operator says otherwise (PLAYGROUND_ALLOW_UNBOUNDED_MEMORY). docs/container.md says which
container options give the bound.
"""

from __future__ import annotations

import dataclasses

from app.config import Settings
from app.runner import limits
from app.runner.sandbox import probing

REFUSAL = (
    "Refusing to start in hosted mode: a run's memory has no bound of its own on this host (no "
    "writable memory cgroup for the runs, and RLIMIT_AS is off: it is not used where an "
    "accelerator driver maps device memory), so one visitor's run could take the memory of "
    "every other run. Give the container a writable cgroup subtree (docs/container.md), or set "
    "PLAYGROUND_ALLOW_UNBOUNDED_MEMORY=1 to start anyway (the container's own memory limit then "
    "bounds all runs together)."
)


def refusal(settings: Settings, layers: dict[str, bool]) -> str | None:
    """The reason not to start, for a host whose runs get these layers; None: start."""
    if not settings.hosted or settings.allow_unbounded_memory or settings.runner_url:
        return None  # worker hosts (runner_url) run the code: they are checked where they run
    return None if limits.memory_bounded(layers) else REFUSAL


def check(settings: Settings) -> str | None:
    """refusal() for this host, probing the sandbox (a throwaway child and cgroup) if needed."""
    if refusal(settings, {"cgroup_memory": False}) is None:
        return None  # nothing to probe: the settings alone allow the start
    lenient = dataclasses.replace(settings, require_sandbox="")  # the runner enforces those
    return refusal(settings, probing.probe(lenient))
