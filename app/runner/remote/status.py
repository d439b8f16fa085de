"""The remote runner's status(): every worker host's heartbeat folded into the RunnerStatus the
local runner's status reads as (platform, devices, idle, running, queued, layers, limits), plus a
HostStatus per host for the System page. Pure functions of a Redis snapshot."""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.runner.api.status import HostStatus, RunnerStatus
from app.runner.remote.queue import HostEntry, Snapshot


def host_row(entry: HostEntry) -> HostStatus:
    """One worker host as the System page lists it (a heartbeat's fields of the wrong type count
    as absent: a host of another version still gets its row)."""
    s = entry.status
    ttl_s = float(s.get("ttl_s") or 0.0)
    age = max(0.0, ttl_s - entry.ttl_left_ms / 1000) if ttl_s and entry.ttl_left_ms >= 0 else None
    return HostStatus(
        host=entry.host,
        platform=str(s.get("platform") or "?"),
        jax=str(s.get("jax") or "?"),
        runtimes=[str(v)[:40] for v in (s.get("runtimes") or [])
                  if isinstance(v, str)][:16] if isinstance(s.get("runtimes"), list) else [],
        device_kind=str(s["device_kind"]) if s.get("device_kind") else None,
        device_count=_count(s.get("device_count")),
        slots=_count(s.get("slots")) or 0,
        running=entry.runs,
        queue=_count(s.get("queued")) or 0,
        runs_total=_count(s.get("runs_total")) or 0,
        late_results_ignored=_count(s.get("late_results_ignored")) or 0,
        heartbeat_age_s=None if age is None else round(age, 2),
        fatal=str(s.get("fatal") or ""),
    )


def _count(value: object) -> int | None:
    """A count from a heartbeat: a non-negative int (a bool is not one), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _all_layers(entries: list[HostEntry]) -> dict[str, bool]:
    """A layer counts as active only if every host has it (a run may land on any of them)."""
    layers: dict[str, bool] = {}
    for entry in entries:
        for name, on in (entry.status.get("layers") or {}).items():
            layers[name] = layers.get(name, True) and bool(on)
    return layers


def summarize(snapshot: Snapshot, settings: Settings) -> RunnerStatus:
    rows = [host_row(entry) for entry in snapshot.hosts]
    platforms = sorted({row.platform for row in rows})
    kinds = sorted({row.device_kind for row in rows if row.device_kind})
    notes = list(dict.fromkeys(note for entry in snapshot.hosts
                               for note in entry.status.get("notes") or []))
    notes.insert(0, f"Runs go to {len(rows)} worker host(s) through Redis; "
                    "sessions take turns in one queue shared by every app replica.")
    first_limits: dict[str, Any] = next((e.status["limits"] for e in snapshot.hosts
                                         if isinstance(e.status.get("limits"), dict)), {})
    limits = {**first_limits, "queue_size": settings.queue_size,
              "queue_wait_s": settings.queue_wait_s, "code_bytes": settings.code_bytes,
              "max_concurrent": sum(row.slots for row in rows)}
    fatal = "; ".join(f"{row.host}: {row.fatal}" for row in rows if row.fatal)
    return RunnerStatus(
        platform=", ".join(platforms) if platforms else "none",
        device_kind=", ".join(kinds) or None,
        device_count=sum(row.device_count or 0 for row in rows),
        idle=sum(max(0, row.slots - row.running) for row in rows),
        running=sum(row.running for row in rows),
        queued=snapshot.queued,
        runs_total=sum(row.runs_total for row in rows),
        hosts=rows,
        notes=[str(note) for note in notes],
        layers=_all_layers(snapshot.hosts),
        limits=limits,
        fatal=fatal,
    )
