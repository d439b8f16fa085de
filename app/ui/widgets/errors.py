"""The error of a run, shown as text: a headline of our own words, the message and traceback in
code blocks (never markdown), and an excerpt of the code with the failing line highlighted, whose
line numbers move the editor's cursor to that line."""

from __future__ import annotations

import html

import streamlit as st

from app.protocol import ErrorInfo
from app.ui import icons
from app.ui.plain import md_lines, name_md
from app.ui.widgets.editor import container_key
from app.ui.widgets.highlight import to_html

EXCERPT_CLASS = "pg-excerpt"
EXCERPT_CONTEXT = 3

# One delegated click handler per browser page: a click on an excerpt's line number moves the
# cursor of the editor named by the excerpt (its keyed container) to that line and scrolls to it.
# Constant text: nothing of a run reaches it (the line number is read from the page).
JUMP_SCRIPT = """<script>
(() => {
  if (window.__pgJump) return;
  window.__pgJump = true;
  document.addEventListener("click", (event) => {
    const number = event.target.closest && event.target.closest(".pg-excerpt .linenos");
    if (!number) return;
    const excerpt = number.closest(".pg-excerpt");
    const line = parseInt(number.textContent, 10);
    const box = document.querySelector("." + excerpt.dataset.pgEditor);
    const frame = box && box.querySelector("iframe");
    const ace = frame && frame.contentDocument &&
      frame.contentDocument.querySelector(".ace_editor");
    if (!ace || !ace.env || !Number.isFinite(line)) return;
    frame.scrollIntoView({block: "center", behavior: "smooth"});
    ace.env.editor.gotoLine(line, 0, true);
    ace.env.editor.focus();
  });
})();
</script>"""


def headline(error: ErrorInfo, subject: str = "Your code") -> str:
    """'**Your code raised TypeError** on line 4' (markdown of our own words and a checked name)."""
    where = f" on line {error.line}" if isinstance(error.line, int) and error.line > 0 else ""
    return f"**{subject} raised {name_md(error.type)}**{where}"


def show_error(error: ErrorInfo, code: str | None, editor_id: str | None = None,
               subject: str = "Your code") -> None:
    """The error box; subject names what raised (the code, or a transformed function)."""
    st.error(headline(error, subject))
    message = f"{error.type}: {error.message}" if error.message else str(error.type)
    st.code(message, language=None, wrap_lines=True)
    if error.advice:
        st.info(md_lines(error.advice), icon=icons.ADVICE)
    if code and isinstance(error.line, int) and error.line > 0:
        show_excerpt(code, error.line, editor_id)
    if error.traceback:
        with st.expander("Traceback (your code's frames only)"):
            st.code(error.traceback, language=None)


def excerpt_window(code: str, line: int, context: int = EXCERPT_CONTEXT) -> tuple[int, str]:
    """(first line number, the text of lines first..last) around line; blank lines kept."""
    lines = code.split("\n")
    first = max(1, line - context)
    last = min(len(lines), line + context)
    return first, "\n".join(lines[first - 1 : last])


def excerpt_html(code: str, line: int, editor_id: str | None = None) -> str:
    """The lines around the failing one, numbered as in the editor, the failing one highlighted."""
    first, text = excerpt_window(code, line)
    body = to_html(text, "python", highlight_lines=[line - first + 1], line_numbers=True,
                   first_line=first)
    target = f' data-pg-editor="st-key-{html.escape(container_key(editor_id))}"' if editor_id \
        else ""
    return f'<div class="{EXCERPT_CLASS}"{target}>{body}</div>'


def show_excerpt(code: str, line: int, editor_id: str | None) -> None:
    st.html(excerpt_html(code, line, editor_id))
    if editor_id:
        st.html(JUMP_SCRIPT, unsafe_allow_javascript=True)
        st.caption("Click a line number to go to that line in the editor; the editor marks the "
                   "failing line too.")
