"""Whether a run that the clock stopped was the server's fault: a busy host, or a long queue.

A run's wall-clock limit counts real seconds; on an overloaded host those seconds pass while the
run waits for a CPU, and an unchanged starter can hit the limit. Such a stop says nothing about
the person's code: it must not count as their failed attempt, and it is worth another try. A
stop by the CPU-time limit is the code's own doing and stays a timeout.

The host's load is Linux's CPU pressure (PSI, /proc/pressure/cpu: the share of the last 10 s in
which runnable tasks waited for a CPU), else the load average per core. With worker hosts
(PLAYGROUND_RUNNER_URL) this host's load says nothing about the run's: only its queue wait does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.protocol import RunResult

PRESSURE_FILE = Path("/proc/pressure/cpu")
BUSY_PRESSURE_PCT = 40.0  # runnable tasks waited for a CPU this share of the last 10 s
BUSY_LOAD_PER_CORE = 1.5  # where there is no PSI: runnable tasks per core, last minute
QUEUED_LONG_S = 5.0  # a run that waited this long for a slot met a busy server
# The app's own heavy defaults get more than the default wall-clock limit (PLAYGROUND_TIMEOUT_S,
# 10 s), up to PLAYGROUND_MAX_TIMEOUT_S: an exercise's check compiles several programs, and the
# XLA pass dump compiles with dumping on. On a loaded host both ran past 10 s unchanged.
CHECK_TIMEOUT_S = 20.0
PASSES_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class HostLoad:
    cpu_pressure_pct: float | None  # PSI "some avg10"; None where the kernel has no PSI
    load_per_core: float

    @property
    def busy(self) -> bool:
        if self.cpu_pressure_pct is not None:
            return self.cpu_pressure_pct >= BUSY_PRESSURE_PCT
        return self.load_per_core >= BUSY_LOAD_PER_CORE

    def describe(self) -> str:
        if self.cpu_pressure_pct is not None:
            return f"runs waited for a CPU {self.cpu_pressure_pct:.0f} % of the last 10 s"
        return f"load {self.load_per_core:.1f} per core"


def _pressure(path: Path) -> float | None:
    try:
        first = path.read_text().splitlines()[0]  # "some avg10=1.23 avg60=... total=..."
    except (OSError, IndexError):
        return None
    for field in first.split()[1:]:
        name, _, value = field.partition("=")
        if name == "avg10":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def host_load(pressure_file: Path = PRESSURE_FILE) -> HostLoad:
    cores = len(os.sched_getaffinity(0)) or 1
    return HostLoad(_pressure(pressure_file), os.getloadavg()[0] / cores)


def clock_stop(result: RunResult) -> bool:
    """Stopped by the wall clock (not the CPU-time limit, which is the code's own use)."""
    return result.status == "timeout" and "CPU" not in result.message


def busy_reason(result: RunResult, load: HostLoad | None) -> str | None:
    """Why a run stopped by the clock was the server's fault, or None (the code's own).
    load: this host's, where the runs run on it; None with worker hosts."""
    if not clock_stop(result):
        return None
    if result.queue_s >= QUEUED_LONG_S:
        return f"it waited {result.queue_s:.0f} s in the queue for a free slot"
    if load is not None and load.busy:
        return f"the server is overloaded ({load.describe()})"
    return None


def at_least(seconds: float, asked: float, settings: Settings) -> float:
    """The limit for a run of the app's own that needs `seconds`: never below what was asked,
    never above the server's maximum."""
    return min(settings.max_timeout_s, max(asked, seconds))
