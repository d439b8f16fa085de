"""Trace, lower and compile times as JAX itself measures them (jax.monitoring duration events).

JAX records `/jax/core/compile/jaxpr_trace_duration`, `.../jaxpr_to_mlir_module_duration` and
`.../backend_compile_duration` around exactly those stages, and a persistent-cache hit as an
event of its own. A listener sums them while a `record_phases()` block runs; where this JAX
sends none, the caller keeps its own clock and says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


@dataclass
class Phases:
    trace_s: float = 0.0
    lower_s: float = 0.0
    compile_s: float = 0.0
    events: int = 0  # duration events seen: 0 means this JAX sent none
    cache_hit: bool = False

    def on_duration(self, event: str, duration_secs: float, **_: str | int) -> None:
        # A jit traced (or lowered) inside another is timed inside it too: the outermost
        # event, the longest, already holds the nested ones. Compiles do not nest.
        if event == TRACE_EVENT:
            self.trace_s = max(self.trace_s, duration_secs)
        elif event == LOWER_EVENT:
            self.lower_s = max(self.lower_s, duration_secs)
        elif event == COMPILE_EVENT:
            self.compile_s += duration_secs
        else:
            return
        self.events += 1

    def on_event(self, event: str, **_: Any) -> None:
        if event == CACHE_HIT_EVENT:
            self.cache_hit = True


@contextlib.contextmanager
def record_phases() -> Iterator[Phases]:
    """Sum JAX's stage durations for the block (listeners removed afterwards)."""
    from jax import monitoring

    phases = Phases()
    monitoring.register_event_duration_secs_listener(phases.on_duration)
    monitoring.register_event_listener(phases.on_event)
    try:
        yield phases
    finally:
        for name, listener in (("unregister_event_duration_listener", phases.on_duration),
                               ("unregister_event_listener", phases.on_event)):
            unregister = getattr(monitoring, name, None)
            if callable(unregister):
                with contextlib.suppress(Exception):
                    unregister(listener)
