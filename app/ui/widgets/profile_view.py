"""A profile of the steady-state calls as a plotly timeline: one row per thread or stream, one
bar per event (op name, start, duration), as jax.profiler recorded them in the run."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from app.protocol import MAX_PROFILE_EVENTS, Profile

_BAR_ROW_PX = 34
_LEGEND_ROW_PX = 19
MAX_LEGEND_NAMES = 40  # more op names than this: no legend (hovering a bar names its op)
MAX_DEPTH = 4  # nested events below this depth share the deepest row


def rows(profile: Profile) -> list[str]:
    """The row of each event: its lane, and below it one row per nesting level (flame-chart
    style), so an event inside another (ParseArguments inside PjitFunction) stays visible."""
    out: list[str] = []
    open_ends: dict[str, list[float]] = {}
    for event in profile.events:  # sorted by start (the worker sends them so)
        stack = open_ends.setdefault(event.lane, [])
        while stack and stack[-1] <= event.start_us:
            stack.pop()
        depth = min(len(stack), MAX_DEPTH)
        stack.append(event.start_us + event.duration_us)
        out.append(event.lane if depth == 0 else f"{event.lane} ▸{depth}")
    return out


# A longer op name is cut with "…" in the legend; hovering its bars shows it whole.
LEGEND_NAME_CHARS = 80


def legend_name(name: str) -> str:
    return name if len(name) <= LEGEND_NAME_CHARS else name[:LEGEND_NAME_CHARS - 1] + "…"


def _text(name: str) -> str:
    """Plotly reads a few HTML tags in names (links among them): names from the run are text."""
    return html.escape(name, quote=False)


def figure(profile: Profile) -> go.Figure:
    row_of = [_text(row) for row in rows(profile)]
    lanes = list(dict.fromkeys(row_of))
    lanes.sort(key=lambda row: (row.split(" ▸")[0], row))
    by_name: dict[str, list[int]] = {}
    for index, event in enumerate(profile.events):
        by_name.setdefault(event.name, []).append(index)
    fig = go.Figure()
    # One trace per op name: the legend names the ops, and clicking one hides it.
    for name, indexes in sorted(by_name.items(), key=lambda item: -len(item[1])):
        events = [profile.events[i] for i in indexes]
        fig.add_trace(go.Bar(
            base=[e.start_us for e in events], x=[e.duration_us for e in events],
            y=[row_of[i] for i in indexes], orientation="h", name=_text(legend_name(name)),
            customdata=[[_text(e.name), e.duration_us, e.start_us] for e in events],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]:.1f} µs at %{customdata[2]:.1f} µs"
                          "<extra></extra>",
        ))
    # The legend sits right of the plot, as tall as it needs (the figure grows to fit it), and
    # the lane names left of it in a margin plotly grows to fit (automargin): below the axis
    # the legend covered the axis title, and a fixed left margin cut the lane names.
    shown = len(by_name) <= MAX_LEGEND_NAMES
    height = max(200 + _BAR_ROW_PX * len(lanes), 80 + _LEGEND_ROW_PX * len(by_name) * shown)
    fig.update_layout(barmode="overlay", height=height,
                      xaxis_title="µs from the first event", showlegend=shown,
                      margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      yaxis={"categoryorder": "array", "categoryarray": lanes[::-1],
                             "automargin": True},
                      xaxis={"automargin": True},
                      legend={"font": {"size": 10}, "orientation": "v", "x": 1.02,
                              "xanchor": "left", "y": 1, "yanchor": "top"})
    return fig


def show_profile(profile: Profile | None, key: str) -> None:
    if profile is None:
        return
    st.caption(f"Profile of {profile.calls} steady-state call(s) (`jax.profiler.trace`, read "
               f"back in the run): host threads and XLA's threads or device streams; at most "
               f"{MAX_PROFILE_EVENTS} events, the longest kept.")
    if not profile.events:
        st.caption("The profiler recorded no timed events for these calls.")
        return
    if profile.dropped:
        st.caption(f"{profile.dropped} shorter events left out.")
    st.plotly_chart(figure(profile), key=f"{key}::profile")
