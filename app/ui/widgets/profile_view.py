"""A profile of the steady-state calls as a plotly timeline: one row per thread or stream, one
bar per event (op name, start, duration), as jax.profiler recorded them in the run."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from app.protocol import MAX_PROFILE_EVENTS, Profile

_BAR_ROW_PX = 34
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
            y=[row_of[i] for i in indexes], orientation="h", name=_text(name[:40]),
            customdata=[[_text(e.name), e.duration_us, e.start_us] for e in events],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]:.1f} µs at %{customdata[2]:.1f} µs"
                          "<extra></extra>",
        ))
    fig.update_layout(barmode="overlay", height=200 + _BAR_ROW_PX * len(lanes),
                      xaxis_title="µs from the first event", showlegend=len(by_name) <= 40,
                      margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      yaxis={"categoryorder": "array", "categoryarray": lanes[::-1]},
                      legend={"font": {"size": 10}, "orientation": "h", "yanchor": "top",
                              "y": -0.25})
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
