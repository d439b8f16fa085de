"""The compose deployment's monitoring: Prometheus scrapes the port the app and the worker hosts
serve their metrics on, and every query of the shipped Grafana dashboard names a metric the code
exports (a renamed metric would leave a blank panel, found here instead)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from app.observability import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def exported_names() -> set[str]:
    """Every sample name the code exports: counters' _total, histograms' series, the gauges."""
    source = Path(metrics.__file__).read_text()
    names = set(re.findall(r'"(playground_[a-z_]+)"', source))
    for counter in (metrics.RUNS, metrics.HEARTBEATS):
        names.add(counter._name + "_total")
    for histogram in (metrics.QUEUE_WAIT, metrics.RUN_DURATION):
        names.update(histogram._name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_prometheus_scrapes_the_metrics_port_of_every_replica_and_host() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    scrape = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"]
    targets = {job["job_name"]: job["dns_sd_configs"][0] for job in scrape}
    for service in ("app", "worker-host"):
        port = int(compose["services"][service]["environment"]["PLAYGROUND_METRICS_PORT"])
        assert targets[service]["names"] == [service] and targets[service]["port"] == port


def test_every_dashboard_query_names_an_exported_metric() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "playground.json").read_text())
    exported = exported_names()
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"playground_[a-z_]+", target["expr"])}
    assert queried and queried <= exported, queried - exported


def test_the_dashboard_check_would_see_a_renamed_metric() -> None:
    assert "playground_runs_total" in exported_names()
    assert "playground_runs_count_total" not in exported_names()
