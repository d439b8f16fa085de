"""System: what this server runs on and what limits a run gets. Reads, never changes, anything."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

import psutil
import streamlit as st

from app.config import describe, settings, shown_value
from app.runner.api.status import RunnerStatus
from app.ui.run import shared_runner
from app.ui.widgets.chrome import page_header

INTRO = "The JAX the sandbox runs, the devices it sees, the sandbox layers and the limits in force."


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def runner_status() -> RunnerStatus | str:
    """The runner's own report, or why there is none (never an app stack trace)."""
    try:
        return RunnerStatus.read(shared_runner().status())
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


def _show_runner(status: RunnerStatus) -> None:
    kind = status.device_kind
    count = "?" if status.device_count is None else status.device_count
    st.markdown(f"**{status.platform.upper()}**, {count} device(s)"
                + (f" of kind `{kind}`" if kind else ""))
    counters = status.counters
    for column, name in zip(st.columns(max(1, len(counters))), counters, strict=False):
        column.metric(name.replace("_", " "), _plain(counters[name]))
    for note in status.notes:
        st.info(note)
    if status.platform == "tpu":
        st.info("TPU: one process may own the chip, so runs go one at a time.")
    if status.policy:
        st.markdown("**Resource policy** (from this host's devices, memory and cores)")
        _table(status.policy, "policy")
    if status.error:
        st.error(status.error)
    if status.layers is not None:
        where = "every worker host" if status.hosts is not None else "this host"
        st.markdown(f"**Sandbox layers active on {where}**")
        _table(status.layers, "layer")
    if status.enforced:
        st.markdown("**How each run's limits are enforced** (a cgroup per run, or what stands "
                    "in for one where the host gives none)")
        _table(status.enforced, "limit")
    if status.last_setup_error:
        st.warning(f"Last sandbox set-up problem: {status.last_setup_error}")
    rest = {**status.details, **({"fatal": status.fatal} if status.fatal else {})}
    if not settings().hosted:  # pids and set-up details are for the operator, not the public
        with st.expander("Everything the runner reports"):
            _table(rest, "field")


def show_runtimes(status: RunnerStatus) -> None:
    """The JAX runtimes runs may choose: each one's versions, its zygote and what its pool of
    waiting children holds (a zygote starts with its runtime's first run)."""
    rows = status.runtimes
    if not rows:
        return
    st.subheader(f"JAX runtimes ({len(rows)})")
    versions: list[dict[str, Any]] = [
        v if isinstance(v := r.get("versions"), dict) else {} for r in rows]
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


def show_hosts(status: RunnerStatus) -> None:
    """The worker hosts behind the remote runner, one row each (names only for the operator);
    nothing for the local runner."""
    hosts = status.hosts
    if hosts is None:
        return
    st.subheader(f"Worker hosts ({len(hosts)})")
    if not hosts:
        st.warning("No worker host is connected to the run queue: runs wait until one is.")
        return
    hosted = settings().hosted
    st.dataframe({
        "host": [f"host {n}" if hosted else h.host for n, h in enumerate(hosts, start=1)],
        "platform": [f"{h.platform} × {h.device_count or '?'}" for h in hosts],
        "JAX": [", ".join(h.runtimes) or h.jax for h in hosts],
        "slots": [h.slots for h in hosts],
        "running": [h.running for h in hosts],
        "queue": [h.queue for h in hosts],
        "runs": [h.runs_total for h in hosts],
        "last heartbeat (s ago)": [h.heartbeat_age_s for h in hosts],
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
    if isinstance(status, RunnerStatus):
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
