"""XLA's pass pipeline: pick a pass, see what it changed (a diff against the state before it) or
the whole module after it; dumps equal to the one before are collapsed into a count."""

from __future__ import annotations

import streamlit as st

from app.protocol import (
    MAX_PASS_DISK_BYTES,
    MAX_PASS_DUMP_CHARS,
    MAX_PASS_DUMPS,
    MAX_PASS_TOTAL_CHARS,
    InspectResult,
    PassDump,
)
from app.ui.widgets import diff_view
from app.ui.widgets.highlight import to_html

CAPS = (f"Caps: at most {MAX_PASS_DUMPS} dumps, {MAX_PASS_DUMP_CHARS // 1000} kB each and "
        f"{MAX_PASS_TOTAL_CHARS // 1_000_000} MB in all; no dump when the module would need "
        f"more than {MAX_PASS_DISK_BYTES // (1024 * 1024)} MiB of the run's scratch.")
TOGGLE_HELP = ("Compiles the function a second time with XLA's dump options and shows the HLO "
               "after each pass that changed it, with a diff against the pass before. " + CAPS)


def label(dump: PassDump) -> str:
    where = f"{dump.pipeline}: " if dump.pipeline else ""
    return f"{dump.index:>3}. {where}{dump.name}"


def changed_dumps(passes: list[PassDump]) -> list[PassDump]:
    """The dumps that differ from the one before them (the first one always does)."""
    return [dump for dump in passes if dump.text is not None]


def show_pipeline(inspect: InspectResult, key: str) -> None:
    st.caption("The optimised HLO is what XLA's pipeline made of the module JAX handed it. XLA "
               "writes the module after each pass that changed it; pick one to see its change. "
               + CAPS)
    if inspect.passes_note:
        st.info(inspect.passes_note, icon=":material/info:")
    changed = changed_dumps(inspect.passes)
    if not changed:
        return
    collapsed = [dump for dump in inspect.passes if dump.text is None]
    st.caption(f"{len(inspect.passes)} dumps: {len(changed)} with a change, {len(collapsed)} the "
               "same as the dump before (collapsed below).")
    index = st.selectbox("Pass", range(len(changed)), format_func=lambda i: label(changed[i]),
                         index=min(1, len(changed) - 1), key=f"{key}::pass")
    current = changed[index]
    previous = changed[index - 1] if index > 0 else None
    whole = st.toggle("Show the whole module after this pass", key=f"{key}::whole",
                      value=previous is None)
    if whole or previous is None:
        st.html(to_html(current.text or "", "hlo"))
    else:
        diff_view.show_diff(previous.text or "", current.text or "", label(previous).strip(),
                            label(current).strip(), key=f"{key}::diff")
    if collapsed:
        with st.expander(f"{len(collapsed)} dumps that changed nothing visible"):
            st.code("\n".join(label(dump) for dump in collapsed), language=None)
