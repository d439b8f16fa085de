"""The live panel of runs in flight: where each one is (queued, running and for how long against
its limit), a Stop button beside it, and the output so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app.protocol import OutputChunk
from app.ui import icons
from app.ui.widgets.results import show_output

# While a run runs, only the end of its output is drawn (every redraw sends it again); all of
# it comes with the result.
TAIL_CHARS = 20_000


@dataclass
class CallView:
    """One run in flight as the panel shows it."""

    line: str  # e.g. "Running in the sandbox… 3.2 s of 10 s"
    output: list[OutputChunk] = field(default_factory=list)


def output_tail(chunks: list[OutputChunk],
                limit: int = TAIL_CHARS) -> tuple[list[OutputChunk], bool]:
    """The last `limit` characters of the output, in order; True when the start was left out."""
    kept: list[OutputChunk] = []
    room = limit
    for chunk in reversed(chunks):
        if room <= 0:
            return kept[::-1], True
        text = chunk.text[-room:]
        kept.append(OutputChunk(chunk.stream, text))
        room -= len(text)
    cut = sum(len(c.text) for c in chunks) > limit
    return kept[::-1], cut


def show_live(calls: list[CallView], stop_key: str, on_stop: Callable[..., None],
              args: tuple[Any, ...] = (), stopping: bool = False) -> None:
    """The progress line with Stop beside it, then each run's output so far."""
    line_col, stop_col = st.columns([6, 1], vertical_alignment="center")
    line_col.info(" · ".join(dict.fromkeys(call.line for call in calls)), icon=icons.WAIT)
    stop_col.button("Stop", key=stop_key, icon=icons.STOP, on_click=on_stop, args=args,
                    disabled=stopping, help="Stop the run; what it printed so far is kept")
    for number, call in enumerate(calls, start=1):
        if not call.output:
            continue
        if len(calls) > 1:
            st.caption(f"Run {number} of {len(calls)}: output so far")
        tail, cut = output_tail(call.output)
        if cut:
            st.caption(f"The last {TAIL_CHARS:,} characters; all of it comes with the result.")
        show_output(tail, "", "")
