"""Result panels: Output, jaxpr, HLO, Timings and Cost tabs for one RunResult."""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

import streamlit as st

from app.protocol import ErrorInfo, InspectResult, OutputChunk, RunResult
from app.ui import icons
from app.ui.messages import status_message
from app.ui.widgets import (
    changes,
    charts,
    diff_view,
    ir_view,
    pipeline_view,
    profile_view,
    value_view,
)
from app.ui.widgets.highlight import STYLESHEET, to_html
from app.ui.widgets.ir_view import IrContext

_TONES = {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}


def inject_styles() -> None:
    """The highlighting stylesheet; call once near the top of every page."""
    styles = (STYLESHEET, ir_view.STYLESHEET, diff_view.STYLESHEET, value_view.STYLESHEET)
    st.html(f"<style>{''.join(styles)}</style>")


def show_status(result: RunResult) -> None:
    message = status_message(result)
    text = f"**{message.headline}**" + (f" {message.detail}" if message.detail else "")
    _TONES[message.tone](text)


def show_error(error: ErrorInfo, code: str | None) -> None:
    where = f" on line {error.line}" if error.line else ""
    st.error(f"**Your code raised {error.type}**{where}: {error.message}")
    if error.advice:
        st.info(error.advice, icon=icons.ADVICE)
    if code and error.line:
        st.html(_excerpt_html(code, error.line))
    if error.traceback:
        with st.expander("Traceback (your code's frames only)"):
            st.code(error.traceback, language=None)


def _excerpt_html(code: str, line: int, context: int = 3) -> str:
    """The lines around the failing one, with line numbers, the failing line highlighted."""
    lines = code.splitlines()
    first = max(1, line - context)
    last = min(len(lines), line + context)
    excerpt = "\n".join(lines[first - 1 : last])
    return to_html(excerpt, "python", highlight_lines=[line - first + 1], line_numbers=True,
                   first_line=first)


def show_output(chunks: list[OutputChunk], stdout: str, stderr: str) -> None:
    """stdout and stderr in the order they were written; stderr groups are labelled."""
    if not chunks and (stdout or stderr):
        chunks = [OutputChunk("stdout", stdout)] if stdout else []
        chunks += [OutputChunk("stderr", stderr)] if stderr else []
    if not chunks:
        st.caption("The run printed nothing.")
        return
    for stream, group in groupby(chunks, key=lambda chunk: chunk.stream):
        text = "".join(chunk.text for chunk in group)
        if stream == "stderr":
            st.caption("stderr")
        st.code(text.rstrip("\n") or " ", language=None)


# Which parts the run's own process wrote (its code could have written anything there) and which
# the server measured; a run's report never changes its status or limits (app/runner/outcome.py).
PROVENANCE = ("The value, error, views, timings and compilations above are reported by the run's "
              "own process; the status, times, memory, platform and sandbox are the server's.")


def _reported_by_the_run(result: RunResult) -> bool:
    return bool(result.value_repr is not None or result.error or result.inspect
                or result.compilations)


def _footer(result: RunResult) -> str:
    parts = [f"{result.duration_s:.2f} s"]
    if result.queue_s >= 0.05:
        parts.append(f"queued {result.queue_s:.2f} s")
    if result.peak_memory_mb:
        peak = result.peak_memory_mb
        parts.append(f"peak {peak:.0f} MiB" if peak >= 1 else "peak <1 MiB")
    if result.platform:
        parts.append(result.platform.upper())
    active = [name for name, on in result.sandbox.items() if on]
    if active:
        parts.append("sandbox: " + ", ".join(active))
    return " · ".join(parts)


def show_output_tab(result: RunResult, code: str | None) -> None:
    if not (result.status == "error" and result.error):  # the error box below says it all
        show_status(result)
    if result.truncated:
        st.warning("The output was cut at the limit; the end is missing.", icon=icons.CUT)
    show_output(result.output, result.stdout, result.stderr)
    if result.value_repr is not None:
        st.caption("Value of the last expression")
        st.code(result.value_repr, language=None, wrap_lines=True)
        value_view.show_tree(result.value_tree, "The value as a tree")
    if result.error:
        show_error(result.error, code)
    if result.inspect:
        show_inspect_summary(result.inspect)
    st.caption(_footer(result))
    if _reported_by_the_run(result):
        st.caption(PROVENANCE)


def show_inspect_summary(inspect: InspectResult) -> None:
    if inspect.expression:
        st.caption("Transformed function")
        st.code(inspect.expression, language="python")
    if inspect.output_repr is not None:
        st.caption("Its output on the example arguments")
        st.code(inspect.output_repr, language=None, wrap_lines=True)
        value_view.show_tree(inspect.output_tree, "The output as a tree")
    if inspect.in_shapes or inspect.out_shapes:
        st.caption(f"in: {', '.join(inspect.in_shapes) or '–'} → out: "
                   f"{', '.join(inspect.out_shapes) or '–'}")
    if inspect.devices:
        st.caption(f"devices: {', '.join(inspect.devices)}")
    if inspect.error:
        show_error(inspect.error, None)
    for warning in inspect.warnings:
        st.warning(warning)


def show_listing(text: str | None, view: str, missing: str, truncated: bool = False) -> None:
    """A jaxpr or HLO listing: highlighted, with the plain text one click away for copying."""
    if not text:
        st.caption(missing)
        return
    if truncated:
        st.warning("This listing was cut at the size limit.", icon=icons.CUT)
    st.html(to_html(text, view))
    with st.expander("Plain text (copy button at the top right)"):
        st.code(text, language=None)


def show_compilations(result: RunResult) -> None:
    compilations = (result.inspect.compilations if result.inspect else []) or result.compilations
    if not compilations:
        return
    st.caption("Compilations")
    for item in compilations:
        reasons = "; ".join(item.reasons) if item.reasons else "first call"
        st.markdown(f"- `{item.function}` compiled **{item.count}×** — {reasons}")


def show_result(result: RunResult, code: str | None, context: IrContext | None = None) -> None:
    """Every tab that has something to show, Output first.

    With a context, the IR tabs map lines to the code (a picker above the tabs unless the page
    draws one) and show what changed since the area's previous run.
    """
    inspect = result.inspect
    # Without a context (e.g. a gotcha pair's two sides) there is no area history to diff with.
    previous = (changes.previous_inspect(context.history or context.scope, result)
                if inspect and context else None)
    context = context or IrContext(scope="result", draw_picker=False)
    if inspect and context.draw_picker and code:
        context.picked = ir_view.line_picker(f"pick::{context.scope}", code,
                                             ir_view.mapped_lines(inspect))
    tabs: list[tuple[str, Callable[[], None]]] = [
        ("Output", lambda: show_output_tab(result, code))
    ]
    if inspect and inspect.jaxpr:
        tabs.append(("jaxpr", lambda: _show_jaxpr(inspect, code, context, previous)))
    if inspect and (inspect.stablehlo or inspect.hlo):
        tabs.append(("HLO", lambda: _show_hlo(inspect, code, context, previous)))
    if inspect and (inspect.passes or inspect.passes_note):
        tabs.append(("XLA passes", lambda: pipeline_view.show_pipeline(
            inspect, f"passes::{context.scope}::{inspect.expression}")))
    if (inspect and inspect.timings) or result.compilations:
        tabs.append(("Timings", lambda: _show_timings(result, context)))
    if inspect and (inspect.cost or inspect.memory):
        tabs.append(("Cost", lambda: charts.show_cost(inspect.cost, inspect.memory)))
    for tab, (_, draw) in zip(st.tabs([name for name, _ in tabs]), tabs, strict=True):
        with tab:
            draw()


def _show_jaxpr(inspect: InspectResult, code: str | None, context: IrContext,
                previous: InspectResult | None) -> None:
    ir_view.show_block(inspect.jaxpr, "jaxpr", inspect, code, context, "",
                       "jaxpr" in inspect.truncated_views)
    changes.show_since_previous("jaxpr", inspect, previous,
                                f"{context.scope}::{inspect.expression}")


def _show_hlo(inspect: InspectResult, code: str | None, context: IrContext,
              previous: InspectResult | None) -> None:
    st.caption("StableHLO: what JAX hands to XLA (`jax.jit(f).lower(...).as_text()`)")
    ir_view.show_block(inspect.stablehlo, "stablehlo", inspect, code, context,
                       "Not available for this run.", "stablehlo" in inspect.truncated_views)
    st.caption("Optimised HLO: what XLA compiled (`.compile().as_text()`)")
    ir_view.show_block(inspect.hlo, "hlo", inspect, code, context,
                       "Not available for this run.", "hlo" in inspect.truncated_views)
    changes.show_since_previous("hlo", inspect, previous,
                                f"{context.scope}::{inspect.expression}")


def _show_timings(result: RunResult, context: IrContext) -> None:
    inspect = result.inspect
    if inspect and inspect.timings:
        charts.show_timings(inspect.timings)
        charts.show_split(inspect.timings)
        profile_view.show_profile(inspect.profile, f"{context.scope}::{inspect.expression}")
    show_compilations(result)
