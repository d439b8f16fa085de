"""Timings as plotly charts and cost/memory analysis as metrics: what a compiled function costs."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from app.protocol import StepTiming, Timings
from app.ui.plain import md_literal


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def phase_bars(timings: Timings) -> list[tuple[str, float, float]]:
    """(label, milliseconds, spread in ms) for trace+lower, compile, first call, steady state."""
    rows: list[tuple[str, float, float]] = []
    split = timings.trace_s is not None and timings.lower_s is not None
    stages = ([("trace", timings.trace_s), ("lower", timings.lower_s)] if split
              else [("trace + lower", timings.trace_lower_s)])
    for label, seconds in (
        *stages,
        ("compile", timings.compile_s),
        ("first call", timings.first_call_s),
    ):
        if seconds is not None:
            rows.append((label, seconds * 1e3, 0.0))
    if timings.steady:
        rows.append(("steady state (median)", timings.steady.median_s * 1e3,
                     timings.steady.spread_s * 1e3))
    return rows


def split_caption(timings: Timings) -> str | None:
    """Where trace / lower / compile come from, and what the compile bar measured."""
    if timings.split_source == "jax.monitoring":
        events = ("Trace, lower and compile are JAX's own measurements (`jax.monitoring` events "
                  "jaxpr_trace_duration, jaxpr_to_mlir_module_duration, backend_compile_duration), "
                  "taken after the first call with JAX's in-memory caches cleared")
        if timings.compile_cached:
            return (events + ". The compiled program came from the persistent compilation cache "
                    "(the first call had just compiled it), so the compile bar is the time to "
                    "load it, not to compile it.")
        return events + ": nothing was reused, the compile bar is a full compile."
    if timings.trace_lower_s is not None:
        return ("This JAX sent no stage events: trace + lower and compile are timed by the "
                "clock around `.trace().lower()` and `.compile()`.")
    return None


def first_call_caption(timings: Timings) -> str | None:
    """Why the first call may cost more than the stage bars add up to."""
    if timings.first_call_s is None:
        return None
    text = ("First call: the function called once as a fresh run calls it, with JAX's caches "
            "cleared: it traces, lowers and compiles, then copies the inputs, runs and waits for "
            "the result.")
    stages = sum(s for s in (timings.trace_lower_s, timings.compile_s) if s is not None)
    if timings.compile_cached and timings.first_call_s > stages:
        text += (f" It took {timings.first_call_s * 1e3:.3g} ms against "
                 f"{stages * 1e3:.3g} ms for the stages measured after it: its compile was a "
                 "real one, theirs came from the cache.")
    return text


def show_split(timings: Timings) -> None:
    for caption in (split_caption(timings), first_call_caption(timings)):
        if caption:
            st.caption(caption)


def comparison_bars(timings: Timings) -> list[tuple[str, StepTiming]]:
    """Steady-state timings of the same call three ways, where the run measured them."""
    rows = [("JAX, as transformed", timings.steady), ("JAX, without jit", timings.unjitted),
            ("NumPy", timings.numpy)]
    return [(label, step) for label, step in rows if step is not None]


def time_span_ms(all_timings: list[Timings | None]) -> tuple[float, float] | None:
    """The smallest and largest time (ms, spreads included) over several results' charts: one
    axis for results shown side by side, so equal bars mean equal times."""
    values = []
    for timings in all_timings:
        if timings is None:
            continue
        for _, ms, spread in phase_bars(timings):
            values += [ms, ms + spread]
        for _, step in comparison_bars(timings):
            values += [step.median_s * 1e3, (step.median_s + step.spread_s) * 1e3]
    positive = [v for v in values if isinstance(v, int | float) and v > 0 and math.isfinite(v)]
    return (min(positive), max(positive)) if positive else None


def _log_range(span_ms: tuple[float, float]) -> list[float]:
    """Plotly's range for a log axis is in powers of ten; a margin keeps the end bars readable."""
    low, high = span_ms
    return [math.log10(low) - 0.3, math.log10(high) + 0.3]


def _bar_chart(labels: list[str], values: list[float], spreads: list[float],
               title: str, x_range_ms: tuple[float, float] | None = None) -> go.Figure:
    # Values go in the axis labels: text on the bars collides with the spread's error bars.
    named = [f"{label}  <b>{value:.3g} ms</b>" for label, value in zip(labels, values, strict=True)]
    figure = go.Figure(go.Bar(
        x=values, y=named, orientation="h",
        error_x={"type": "data", "array": spreads, "visible": any(spreads)},
        hovertemplate="%{x:.3g} ms<extra></extra>",
    ))
    figure.update_layout(title=title, xaxis_title="milliseconds (log scale)", xaxis_type="log",
                         height=90 + 48 * len(labels), margin={"l": 10, "r": 20, "t": 40, "b": 40},
                         yaxis={"autorange": "reversed"})
    if x_range_ms is not None:
        figure.update_xaxes(range=_log_range(x_range_ms))
    return figure


def show_timings(timings: Timings, key: str | None = None,
                 x_range_ms: tuple[float, float] | None = None) -> None:
    """The phase and comparison charts; x_range_ms puts several results on one time axis."""
    phases = phase_bars(timings)
    if phases:
        labels, values, spreads = zip(*phases, strict=True)
        st.plotly_chart(_bar_chart(list(labels), list(values), list(spreads),
                                   "Where the time goes", x_range_ms), key=key and key + "-phases")
        if timings.steady:
            st.caption(f"Steady state: median of {md_literal(timings.steady.count, 20)} calls "
                       "with `block_until_ready`; the error bar is max − min.")
    compared = comparison_bars(timings)
    if len(compared) > 1:
        st.plotly_chart(_bar_chart(
            [label for label, _ in compared], [step.median_s * 1e3 for _, step in compared],
            [step.spread_s * 1e3 for _, step in compared], "Same inputs, steady state",
            x_range_ms,
        ), key=key and key + "-compare")
    if not phases and len(compared) <= 1:
        st.caption("No timings for this run.")


def _human(value: float, unit: str) -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def show_cost(cost: dict[str, float] | None, memory: dict[str, float] | None) -> None:
    if cost:
        st.caption("XLA's cost analysis of the compiled function (loop bodies counted once)")
        headline = [("flops", "FLOP"), ("bytes accessed", "B"), ("transcendentals", "")]
        cols = st.columns(len(headline))
        for col, (name, unit) in zip(cols, headline, strict=True):
            if name in cost:
                col.metric(name, _human(float(cost[name]), unit).strip())
        others = {k: v for k, v in cost.items() if k not in dict(headline)}
        if others:
            with st.expander("Every cost counter"):
                st.dataframe({"counter": [str(k) for k in others],
                              "value": [f"{v:,.0f}" for v in others.values()]},
                             hide_index=True, width="stretch")
    if memory:
        st.caption("Memory analysis of the compiled function")
        # Zero host-side fields are noise on a device that is the host (CPU).
        shown = {k: v for k, v in memory.items() if v or not k.startswith("host_")}
        st.dataframe({"field": [str(k).removesuffix("_in_bytes").replace("_", " ") for k in shown],
                      "size": [_human(float(v), "B") for v in shown.values()]},
                     hide_index=True, width="stretch")
    if not cost and not memory:
        st.caption("No cost analysis for this run.")
