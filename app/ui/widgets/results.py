"""Result panels: Output, jaxpr, HLO, Timings and Cost tabs for one RunResult.

Everything a run produced is shown as text (code blocks, or escaped into our own markdown), never
rendered as markdown or HTML: a run's output, values, errors, warnings and compile reasons are
untrusted bytes, and a share link can make a stranger run them (app.ui.plain).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import streamlit as st

from app.protocol import InspectResult, OutputChunk, RunResult
from app.ui import glossary, icons
from app.ui.messages import status_message
from app.ui.plain import md_lines, md_literal
from app.ui.widgets import (
    changes,
    charts,
    diff_view,
    ir_view,
    pipeline_view,
    profile_view,
    value_view,
)
from app.ui.widgets.errors import show_error
from app.ui.widgets.highlight import STYLESHEET
from app.ui.widgets.ir_view import IrContext
from app.ui.widgets.values import shapes_caption, show_value

_TONES = {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}


# Listings that wrap their long lines instead of scrolling sideways (narrow side-by-side panels).
_WRAP_CSS = (".pg-wrap .pg-hl pre, .pg-wrap .pgx-l { white-space: pre-wrap; "
             "overflow-wrap: anywhere; }\n"
             ".pg-excerpt .linenos { cursor: pointer; text-decoration: underline dotted; }\n"
             # an element that only carries one of our scripts takes no room on the page
             '[data-testid="stElementContainer"]:has(script) { display: none; }\n')


@dataclass(frozen=True)
class View:
    """How one result is drawn where it sits on its page."""

    editor_id: str | None = None  # the editor that holds the code (its failing line is marked)
    wrap_listings: bool = False  # jaxpr/HLO wrap long lines (the Transform Lab's two columns)
    time_range_ms: tuple[float, float] | None = None  # one time axis for results side by side
    key: str | None = None  # tells the charts of results on one page apart


def inject_styles() -> None:
    """The highlighting stylesheet; call once near the top of every page."""
    styles = (STYLESHEET, ir_view.STYLESHEET, diff_view.STYLESHEET, value_view.STYLESHEET,
              _WRAP_CSS)
    st.html(f"<style>{''.join(styles)}</style>")


def show_status(result: RunResult) -> None:
    """The run's one status line: our headline, the runner's sentence as plain text."""
    message = status_message(result)
    text = f"**{message.headline}**" + (f" {md_literal(message.detail, 600)}"
                                         if message.detail else "")
    _TONES[message.tone](text)


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
# the server measured; a run's report never changes its status or limits
# (app/runner/supervisor/outcome.py).
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
        parts.append(md_literal(result.platform.upper(), 20))
    if result.runtime is not None and result.runtime.jax:
        parts.append(md_literal(result.runtime.label(), 80))
    loaded = result.compile_cache.get("session_hits", 0)
    if isinstance(loaded, int) and loaded:
        parts.append(f"{loaded} compiled program(s) from this session's cache")
    return " · ".join(parts)


# Reported for information (user_ns is off when the app runs as root, which needs none).
_INFORMATIONAL_LAYERS = frozenset({"user_ns"})


def sandbox_line(sandbox: dict[str, bool]) -> str | None:
    """'Sandboxed: 16 layers' (and how many are missing on this host); None without a report."""
    if not sandbox:
        return None
    active = sum(1 for on in sandbox.values() if on)
    missing = sum(1 for name, on in sandbox.items() if not on and name not in _INFORMATIONAL_LAYERS)
    return f"Sandboxed: {active} layers" + (f" ({missing} not available on this host)"
                                             if missing else "")


def show_sandbox(sandbox: dict[str, bool], limits: dict[str, str] | None = None) -> None:
    """The sandbox's layers folded into one line; unfolded, which were active and how the
    run's limits were enforced."""
    line = sandbox_line(sandbox)
    if line is None:
        return
    with st.expander(line, icon=icons.LOCK):
        active = [str(name) for name, on in sandbox.items() if on]
        missing = [str(name) for name, on in sandbox.items() if not on]
        st.caption(md_literal("Active: " + ", ".join(active), 2_000))
        if missing:
            st.caption(md_literal("Not active: " + ", ".join(missing), 2_000))
        for name, how in (limits or {}).items():
            st.caption(md_literal(f"{name.replace('_', ' ')}: {how}", 1_000))
        st.caption("What each layer does: docs/security.md and the System page.")


def inspect_failed(result: RunResult) -> bool:
    """The code ran, but calling the transformed function raised: that is the run's status."""
    return result.status == "ok" and bool(result.inspect and result.inspect.error)


def show_output_tab(result: RunResult, code: str | None, view: View | None = None) -> None:
    view = view or View()
    # One status per result: the error box says it when the code or its transformed function
    # raised; a green "Ran in" above a red error would be two answers.
    if not (result.status == "error" and result.error) and not inspect_failed(result):
        show_status(result)
    for note in result.notes:  # e.g. where it ran, when not where it was asked to
        st.info(md_lines(note, 500), icon=icons.DEVICE)
    if result.truncated:
        st.warning("The output was cut at the limit; the end is missing.", icon=icons.CUT)
    show_output(result.output, result.stdout, result.stderr)
    if result.value_repr is not None:
        show_value("Value of the last expression", result.value_repr)
        value_view.show_tree(result.value_tree, "The value as a tree")
    if result.error:
        show_error(result.error, code, view.editor_id)
    if result.inspect:
        show_inspect_summary(result, result.inspect)
    st.caption(_footer(result))
    show_sandbox(result.sandbox, result.limits)
    if _reported_by_the_run(result):
        st.caption(PROVENANCE)


def show_inspect_summary(result: RunResult, inspect: InspectResult) -> None:
    if inspect.notice:
        st.info(md_lines(inspect.notice), icon=icons.ADVICE)
    if inspect.expression:
        st.caption("Transformed function")
        st.code(inspect.expression, language="python")
    if inspect.output_repr is not None:
        show_value("Its output on the example arguments", inspect.output_repr, inspect.out_shapes)
        value_view.show_tree(inspect.output_tree, "The output as a tree")
    if inspect.in_shapes or inspect.out_shapes:
        st.caption(shapes_caption(inspect.in_shapes, inspect.out_shapes))
    if inspect.devices:
        st.caption(md_literal("devices: " + ", ".join(inspect.devices), 1_000))
    if inspect.error:
        show_error(inspect.error, None, subject="The transformed function")
        if inspect_failed(result):
            st.caption(f"Your code itself ran in {result.duration_s:.2f} s; calling the "
                       "transformed function on the example arguments raised.")
    for warning in inspect.warnings:
        st.warning(md_lines(warning))


def show_compilations(result: RunResult) -> None:
    compilations = (result.inspect.compilations if result.inspect else []) or result.compilations
    if not compilations:
        return
    st.caption("Compilations")
    lines = []
    for item in compilations:
        reasons = "; ".join(str(r) for r in item.reasons) if item.reasons else "first call"
        lines.append(f"- {md_literal(item.function, 200)} compiled "
                     f"**{md_literal(item.count, 20)}×** — {md_literal(reasons, 1_000)}")
    st.markdown("\n".join(lines))


def show_result(result: RunResult, code: str | None, view: View | None = None,
                context: IrContext | None = None) -> None:
    """Every tab that has something to show, Output first.

    The view says how the result sits on its page (editor to mark, wrapped listings, a shared
    time axis). With a context, the IR tabs map lines to the code (a picker above the tabs
    unless the page draws one) and show what changed since the area's previous run.
    """
    view = view or View()
    inspect = result.inspect
    # Without a context (e.g. a gotcha pair's two sides) there is no area history to diff with.
    previous = (changes.previous_inspect(context.history or context.scope, result)
                if inspect and context else None)
    context = context or IrContext(scope="result", draw_picker=False)
    if inspect and context.draw_picker and code:
        context.picked = ir_view.line_picker(f"pick::{context.scope}", code,
                                             ir_view.mapped_lines(inspect))
    tabs: list[tuple[str, Callable[[], None]]] = [
        ("Output", lambda: show_output_tab(result, code, view))
    ]
    if inspect and inspect.jaxpr:
        tabs.append(("jaxpr", lambda: _show_jaxpr(inspect, code, context, previous, view)))
    if inspect and (inspect.stablehlo or inspect.hlo):
        tabs.append(("HLO", lambda: _show_hlo(inspect, code, context, previous, view)))
    if inspect and (inspect.passes or inspect.passes_note):
        tabs.append(("XLA passes", lambda: pipeline_view.show_pipeline(
            inspect, f"passes::{context.scope}::{inspect.expression}")))
    if (inspect and inspect.timings) or result.compilations:
        tabs.append(("Timings", lambda: _show_timings(result, context, view)))
    if inspect and (inspect.cost or inspect.memory):
        tabs.append(("Cost", lambda: _show_cost(inspect)))
    for tab, (_, draw) in zip(st.tabs([name for name, _ in tabs]), tabs, strict=True):
        with tab:
            draw()


def _show_jaxpr(inspect: InspectResult, code: str | None, context: IrContext,
                previous: InspectResult | None, view: View) -> None:
    glossary.jaxpr_note()
    ir_view.show_block(inspect.jaxpr, "jaxpr", inspect, code, context, "",
                       "jaxpr" in inspect.truncated_views, wrap=view.wrap_listings)
    changes.show_since_previous("jaxpr", inspect, previous,
                                f"{context.scope}::{inspect.expression}")


def _show_hlo(inspect: InspectResult, code: str | None, context: IrContext,
              previous: InspectResult | None, view: View) -> None:
    glossary.hlo_note()
    st.caption("StableHLO: what JAX hands to XLA (`jax.jit(f).lower(...).as_text()`)")
    ir_view.show_block(inspect.stablehlo, "stablehlo", inspect, code, context,
                       "Not available for this run.", "stablehlo" in inspect.truncated_views,
                       wrap=view.wrap_listings)
    st.caption("Optimised HLO: what XLA compiled (`.compile().as_text()`)")
    ir_view.show_block(inspect.hlo, "hlo", inspect, code, context,
                       "Not available for this run.", "hlo" in inspect.truncated_views,
                       wrap=view.wrap_listings)
    changes.show_since_previous("hlo", inspect, previous,
                                f"{context.scope}::{inspect.expression}")


def _show_timings(result: RunResult, context: IrContext, view: View) -> None:
    glossary.timings_note()
    inspect = result.inspect
    if inspect and inspect.timings:
        charts.show_timings(inspect.timings, key=view.key, x_range_ms=view.time_range_ms)
        charts.show_split(inspect.timings)
        profile_view.show_profile(inspect.profile, f"{context.scope}::{inspect.expression}")
    show_compilations(result)


def _show_cost(inspect: InspectResult) -> None:
    glossary.cost_note()
    charts.show_cost(inspect.cost, inspect.memory)
