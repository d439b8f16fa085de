"""System: what this server runs on and what limits a run gets. Reads, never changes, anything."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

import psutil
import streamlit as st

from app.config import describe, settings, shown_value
from app.ui.run import shared_runner
from app.ui.widgets.chrome import page_header

INTRO = "The JAX the sandbox runs, the devices it sees, the sandbox layers and the limits in force."
_HEADLINE = ("platform", "device_kind", "device_count", "idle", "running", "queued", "runs_total")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def runner_status() -> dict[str, Any] | str:
    """The runner's own report, or why there is none (never an app stack trace)."""
    try:
        return dict(shared_runner().status())
    except Exception as exc:
        if settings().hosted:
            return "The sandbox runner is not available."
        return f"The sandbox runner is not available: {type(exc).__name__}: {exc}"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(mapping: dict[str, Any], first: str) -> None:
    st.dataframe({first: [str(k).replace("_", " ") for k in mapping],
                  "value": [_plain(v) for v in mapping.values()]},
                 hide_index=True, width="stretch")


def _show_runner(status: dict[str, Any]) -> None:
    platform_name = str(status.get("platform", "?")).upper()
    kind = status.get("device_kind")
    st.markdown(f"**{platform_name}**, {status.get('device_count', '?')} device(s)"
                + (f" of kind `{kind}`" if kind else ""))
    counters = [k for k in ("idle", "running", "queued", "runs_total") if k in status]
    for column, name in zip(st.columns(max(1, len(counters))), counters, strict=False):
        column.metric(name.replace("_", " "), _plain(status[name]))
    for note in status.get("notes", []):
        st.info(note)
    if status.get("platform") == "tpu":
        st.info("TPU: one process may own the chip, so runs go one at a time.")
    policy = status.get("policy")
    if isinstance(policy, dict) and policy:
        st.markdown("**Resource policy** (from this host's devices, memory and cores)")
        _table(policy, "policy")
    if status.get("error"):
        st.error(str(status["error"]))
    hosts = status.get("hosts")
    layers = status.get("layers")
    if isinstance(layers, dict):
        where = "every worker host" if isinstance(hosts, list) else "this host"
        st.markdown(f"**Sandbox layers active on {where}**")
        _table(layers, "layer")
    enforced = status.get("enforced")
    if isinstance(enforced, dict) and enforced:
        st.markdown("**How each run's limits are enforced** (a cgroup per run, or what stands "
                    "in for one where the host gives none)")
        _table(enforced, "limit")
    if status.get("last_setup_error"):
        st.warning(f"Last sandbox set-up problem: {status['last_setup_error']}")
    rest = {k: v for k, v in status.items()
            if k not in (*_HEADLINE, "notes", "layers", "limits", "last_setup_error", "hosts",
                         "error", "policy", "enforced", "runtimes")}
    if not settings().hosted:  # pids and set-up details are for the operator, not the public
        with st.expander("Everything the runner reports"):
            _table(rest, "field")


def show_runtimes(status: dict[str, Any]) -> None:
    """The JAX runtimes runs may choose: each one's versions, its zygote and what its pool of
    waiting children holds (a zygote starts with its runtime's first run)."""
    rows = status.get("runtimes")
    if not isinstance(rows, list) or not rows:
        return
    st.subheader(f"JAX runtimes ({len(rows)})")
    versions = [r.get("versions") if isinstance(r.get("versions"), dict) else {} for r in rows]
    st.dataframe({
        "JAX": [f"{r.get('id') or r.get('jax')}" + (" (default)" if r.get("default") else "")
                for r in rows],
        "jaxlib": [v.get("jaxlib", "") for v in versions],
        "Python": [v.get("python", "") for v in versions],
        "zygote": ["ready" if r.get("zygote_ready") else
                   ("starting" if r.get("started") else "not started") for r in rows],
        "waiting": [r.get("children_waiting", 0) for r in rows],
        "running": [r.get("children_running", 0) for r in rows],
        "pool memory (MiB)": [r.get("pool_memory_mb", 0) for r in rows],
    }, hide_index=True, width="stretch")


def show_hosts(status: dict[str, Any]) -> None:
    """The worker hosts behind the remote runner, one row each (names only for the operator);
    nothing for the local runner."""
    hosts = status.get("hosts")
    if not isinstance(hosts, list):
        return
    st.subheader(f"Worker hosts ({len(hosts)})")
    if not hosts:
        st.warning("No worker host is connected to the run queue: runs wait until one is.")
        return
    hosted = settings().hosted
    st.dataframe({
        "host": [f"host {n}" if hosted else str(h.get("host")) for n, h in
                 enumerate(hosts, start=1)],
        "platform": [f"{h.get('platform')} × {h.get('device_count') or '?'}" for h in hosts],
        "JAX": [", ".join(h.get("runtimes") or []) or h.get("jax") for h in hosts],
        "slots": [h.get("slots") for h in hosts],
        "running": [h.get("running") for h in hosts],
        "queue": [h.get("queue") for h in hosts],
        "runs": [h.get("runs_total") for h in hosts],
        "last heartbeat (s ago)": [h.get("heartbeat_age_s") for h in hosts],
    }, hide_index=True, width="stretch")


def render_system() -> None:
    page_header("System", INTRO)
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader("Software")
        # The kernel release tells an attacker which exploits to try: the public demo omits it.
        host = (f"{platform.system()} ({platform.machine()})" if settings().hosted
                else f"{platform.system()} {platform.release()} ({platform.machine()})")
        st.markdown(
            f"- The app's own JAX **{_version('jax')}**, jaxlib {_version('jaxlib')}, "
            f"NumPy {_version('numpy')} (runs use the JAX runtimes below)\n"
            f"- Python {platform.python_version()}, Streamlit {_version('streamlit')}\n"
            f"- Host: {host}"
        )
        st.subheader("Host")
        memory = psutil.virtual_memory()
        cpu_cols = st.columns(3)
        cpu_cols[0].metric("CPU cores", psutil.cpu_count(logical=True) or "?")
        cpu_cols[1].metric("CPU load", f"{psutil.cpu_percent(interval=0.1):.0f} %")
        cpu_cols[2].metric("Memory used", f"{memory.percent:.0f} %",
                           help=f"{memory.used / 2**30:.1f} of {memory.total / 2**30:.1f} GiB")
    with right:
        st.subheader("Sandbox runner")
        status = runner_status()
        if isinstance(status, str):
            st.error(status)
        else:
            _show_runner(status)
    if isinstance(status, dict):
        show_runtimes(status)
        show_hosts(status)
    st.subheader("Limits in force")
    current = settings()
    rows = describe()
    st.dataframe(
        {
            "setting": [variable for variable, _, _ in rows],
            "value": [_plain(shown_value(current, variable.removeprefix("PLAYGROUND_").lower()))
                      for variable, _, _ in rows],
            "meaning": [meaning for _, _, meaning in rows],
        },
        hide_index=True,
        width="stretch",
    )
