"""Prometheus metrics (prometheus_client) of an app replica or a worker host.

Counters and histograms are updated as runs end (runs.py). Gauges that describe a state (the
queue, the pool, hosts, rooms) are read when Prometheus scrapes, from the runner's status and
the rooms store, through collectors registered by the process that owns them. serve() starts
the endpoint (PLAYGROUND_METRICS_PORT; 0 = none) on its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

RUNS = Counter("playground_runs", "Runs ended, by status and by the side that saw them end",
               ["where", "status"])
QUEUE_WAIT = Histogram("playground_queue_wait_seconds", "Time a run waited for a slot",
                       ["where"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
RUN_DURATION = Histogram("playground_run_duration_seconds", "Wall time of a run, queue excluded",
                         ["where", "status"],
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60))
HEARTBEATS = Counter("playground_host_heartbeats", "Heartbeats this worker host sent to Redis")

_served: dict[object, Any] = {}
_lock = threading.Lock()


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class RunnerCollector(Collector):
    """The runner's state at scrape time: queue length, runs in flight, the pool and its memory,
    and per worker host its slots, runs and heartbeat age (remote runner)."""

    def __init__(self, status: Callable[[], dict[str, Any]], where: str) -> None:
        self._status = status
        self._where = where

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            info = self._status()
        except Exception as exc:  # a scrape must answer even when the runner does not
            log.warning("metrics: runner status failed: %s", exc)
            info = {}
        up = GaugeMetricFamily("playground_runner_up", "1 when the runner answered its status",
                               labels=["where"])
        up.add_metric([self._where], 1.0 if info.get("running_supervisor") else 0.0)
        yield up
        for name, key, text in (
            ("playground_queue_length", "queued", "Runs waiting for a slot"),
            ("playground_runs_in_flight", "running", "Runs executing now"),
            ("playground_pool_idle", "idle", "Prepared sandboxed children waiting for a run"),
            ("playground_pool_starting", "starting", "Children being prepared"),
            ("playground_child_memory_mb", "child_ready_memory_mb_p50",
             "Median memory of a prepared child (MB)"),
            ("playground_zygote_restarts", "zygote_restarts", "Zygote restarts since start"),
            ("playground_supervisor_restarts", "supervisor_restarts",
             "Supervisor restarts since start"),
        ):
            value = _number(info.get(key))
            if value is not None:
                family = GaugeMetricFamily(name, text, labels=["where"])
                family.add_metric([self._where], value)
                yield family
        hosts = info.get("hosts")
        if isinstance(hosts, list):
            slots = GaugeMetricFamily("playground_host_slots", "Run slots of a worker host",
                                      labels=["host"])
            running = GaugeMetricFamily("playground_host_running", "Runs on a worker host",
                                        labels=["host"])
            age = GaugeMetricFamily("playground_host_heartbeat_age_seconds",
                                    "Seconds since a worker host's last heartbeat",
                                    labels=["host"])
            for row in hosts:
                if not isinstance(row, dict):
                    continue
                host = str(row.get("host", "?"))[:100]
                for family, key in ((slots, "slots"), (running, "running"),
                                    (age, "heartbeat_age_s")):
                    value = _number(row.get(key))
                    if value is not None:
                        family.add_metric([host], value)
            yield slots
            yield running
            yield age


class RoomsCollector(Collector):
    """Rooms open now and their participants, from the store at scrape time."""

    def __init__(self, counts: Callable[[float], tuple[int, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            rooms, people = self._counts(time.time())
        except Exception as exc:
            log.warning("metrics: rooms count failed: %s", exc)
            return
        yield GaugeMetricFamily("playground_rooms_active", "Rooms open now", value=rooms)
        yield GaugeMetricFamily("playground_room_participants_active",
                                "Participants of the rooms open now", value=people)


def register_once(name: str, collector: Collector) -> None:
    """Register a collector under a name once per process (Streamlit reruns call this often)."""
    with _lock:
        if name in _served:
            return
        REGISTRY.register(collector)
        _served[name] = collector


def serve(port: int, address: str = "0.0.0.0") -> bool:
    """Start the /metrics endpoint once per process; False when port is 0 (off)."""
    if not port:
        return False
    with _lock:
        if ("http", port) in _served:
            return True
        server, _thread = start_http_server(port, addr=address)
        _served[("http", port)] = server
    log.info("metrics on :%d/metrics", port)
    return True
