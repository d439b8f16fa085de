"""What a runner reports about itself, typed: the System page and the remote runner's summary of
its worker hosts read fields, not string keys.

`RunnerInterface.status()` stays the wire form (a JSON object: the supervisor sends it, a worker
host publishes it in its heartbeat); `RunnerStatus.read` turns one into this object, strictly
(app/decoding.py): a field of the wrong type makes the whole status an `error`, never an
exception on the page. What has no field here stays in `details`, for the operator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app import decoding


@dataclass(frozen=True)
class HostStatus:
    """One worker host behind the remote runner, from its last heartbeat."""

    host: str
    platform: str = "?"
    jax: str = "?"
    runtimes: list[str] = field(default_factory=list)  # the JAX versions it can run
    device_kind: str | None = None
    device_count: int | None = None
    slots: int = 0
    running: int = 0  # as Redis counts them: claimed or running there
    queue: int = 0  # waiting in that host's own supervisor
    runs_total: int = 0
    late_results_ignored: int = 0
    heartbeat_age_s: float | None = None
    fatal: str = ""


@dataclass(frozen=True)
class RunnerStatus:
    platform: str = "?"
    device_kind: str | None = None
    device_count: int | None = None
    idle: int | None = None
    running: int | None = None
    queued: int | None = None
    runs_total: int | None = None
    notes: list[str] = field(default_factory=list)
    policy: dict[str, str] = field(default_factory=dict)  # the resource policy, as rows
    layers: dict[str, bool] | None = None  # None: not known (the runner did not answer)
    limits: dict[str, Any] = field(default_factory=dict)
    enforced: dict[str, str] = field(default_factory=dict)  # limit -> how this host enforces it
    runtimes: list[dict[str, Any]] = field(default_factory=list)  # the JAX runtimes runs choose
    last_setup_error: str = ""
    error: str = ""  # the runner could not be asked, or answered nonsense
    fatal: str = ""  # the runner refuses every run (a required sandbox layer is missing)
    hosts: list[HostStatus] | None = None  # the remote runner's worker hosts; None: local
    details: dict[str, Any] = field(default_factory=dict)  # everything else it reported

    @property
    def counters(self) -> dict[str, int]:
        """The headline numbers the runner gave, by name."""
        return {name: value for name in ("idle", "running", "queued", "runs_total")
                if (value := getattr(self, name)) is not None}

    @classmethod
    def read(cls, report: Mapping[str, Any]) -> RunnerStatus:
        """The typed status from a runner's `status()`."""
        typed = _FIELDS - {"details"}
        known = {k: v for k, v in report.items() if k in typed and v is not None}
        details = {k: v for k, v in report.items() if k not in typed}
        try:
            status = decoding.build(cls, known)
        except decoding.DecodeError as exc:
            return cls(error=f"The runner's status is malformed: {exc}", details=details)
        return dataclasses.replace(status, details=details)

    def as_dict(self) -> dict[str, Any]:
        """The wire form: the fields, then the details beside them."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("details", "hosts")}
        if self.hosts is not None:
            out["hosts"] = [dataclasses.asdict(host) for host in self.hosts]
        return {**self.details, **out}


_FIELDS = frozenset(f.name for f in dataclasses.fields(RunnerStatus))
