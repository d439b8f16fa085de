"""What the supervisor reports about itself: its limits and its status.

Methods of the Supervisor (service.py binds them); `self` is the Supervisor.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from app.runner import limits as limits_module
from app.runner import policy
from app.runner.supervisor import oom_guard, pool
from app.runner.supervisor.zygotes import split_kind

if TYPE_CHECKING:
    from app.runner.supervisor.service import Supervisor


def limits(self: Supervisor) -> dict[str, Any]:
    s = self.settings
    return {
        "timeout_s": s.timeout_s,
        "max_timeout_s": s.max_timeout_s,
        "cpu_s": s.cpu_s,
        "memory_mb": s.memory_mb,
        "output_bytes": s.output_bytes,
        "result_bytes": s.result_bytes,
        "max_pids": s.max_pids,
        "file_size_mb": s.file_size_mb,
        "open_files": s.open_files,
        "code_bytes": s.code_bytes,
        "max_concurrent": self.max_concurrent,
        "queue_size": s.queue_size,
        "queue_wait_s": s.queue_wait_s,
        "prefork": s.prefork,
        "cores_per_run": s.cores_per_run,
        "cpu_limit_s": policy.cpu_limit_s(s),
    }



def runtime_status(self: Supervisor) -> list[dict[str, Any]]:
    """Per runtime: its zygote, its waiting and running children, and what they hold."""
    rows = self.zygotes.listing()
    for row in rows:
        mine = [c for c in self.children.values()
                if split_kind(c.kind, self.zygotes.default_id)[1] == row["id"]]
        row["children_waiting"] = sum(1 for c in mine if c.state == "idle" and c.run is None)
        row["children_running"] = sum(1 for c in mine if c.state == "running")
        row["pool_memory_mb"] = round(sum(c.ready_memory_mb or 0.0 for c in mine
                                          if c.state == "idle" and c.run is None), 1)
    return rows

def status(self: Supervisor) -> dict[str, Any]:
    return {
        "supervisor_pid": os.getpid(),
        **self.zygote.status(),
        **pool.status(self.children.values(), self.prep_times, self.prep_phases),
        "queued": len(self.queue),
        "runs_total": self.runs_total,
        "runs_waited_for_preparation": self.waited_for_preparation,
        "child_ready_memory_mb_p50": pool.median(self.child_memory),
        "status_counts": dict(self.status_counts),
        "runtimes": self.runtime_status(),
        "platform": self.info.platform,
        "device_count": self.info.device_count,
        "device_kind": self.info.device_kind,
        "notes": self.info.notes,
        "policy": policy.rows(self.info.policy) if self.info.policy else {},
        "session_cache": self.session_layers.status(),
        "layers": self.layers,
        "limits": self.limits(),
        # How each run's limits are enforced here (cgroups, or what stands in for them).
        "enforced": limits_module.describe(self.layers, self.settings,
                                           oom_guard.kernel_keeps_minimum()),
        "warm": self.warmup.state,
        "last_setup_error": self.setup.last_error,
        "fatal": self.fatal,
        "uptime_s": round(time.time() - self.started, 1),
    }
