"""Pygments highlighting for code, jaxprs and HLO, as HTML that reads well in light and dark themes.

Colours are mid-tones on a transparent background, so one stylesheet serves both Streamlit
themes. Lexers for jaxpr and HLO come from app.lexers when that module provides them; until then
(or for a view it does not know) the text is shown plain, never with a wrong lexer.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Iterable

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer

CSS_CLASS = "pg-hl"
# Texts longer than this are shown without colours. The project's lexers are linear (app.lexers),
# Pygments' Python lexer is not promised to be: this bounds the work on any text a run sent.
MAX_HIGHLIGHT_CHARS = 250_000
PLAIN_NOTE = f"Shown without colours: longer than {MAX_HIGHLIGHT_CHARS:,} characters."


def within_budget(text: str) -> bool:
    return len(text) <= MAX_HIGHLIGHT_CHARS

# Token class -> colour; chosen to keep >= 3:1 contrast on both #ffffff and #0e1117.
_COLOURS = {
    "k": "#a35ddf", "kn": "#a35ddf", "kc": "#a35ddf", "kd": "#a35ddf", "ow": "#a35ddf",
    "nf": "#2f8fd8", "nc": "#2f8fd8", "fm": "#2f8fd8", "nb": "#c6820a", "bp": "#c6820a",
    "kt": "#c6820a", "nd": "#c6820a",
    "m": "#d9622b", "mi": "#d9622b", "mf": "#d9622b", "mh": "#d9622b",
    "s": "#3c9a5f", "s1": "#3c9a5f", "s2": "#3c9a5f", "sd": "#3c9a5f", "sa": "#3c9a5f",
    "c": "#8a8f98", "c1": "#8a8f98", "cm": "#8a8f98", "ch": "#8a8f98",
    "nv": "#2aa198", "na": "#2aa198", "nl": "#2aa198",
    "err": "inherit",
}

STYLESHEET = (
    f".{CSS_CLASS} {{ background: transparent; overflow: auto; max-height: 36rem; "
    "border-radius: 0.5rem; "
    "border: 1px solid rgba(128,128,128,0.25); padding: 0.6rem 0.8rem; margin-bottom: 0.6rem; }\n"
    f".{CSS_CLASS} pre {{ margin: 0; background: transparent; font-size: 0.85rem; "
    "line-height: 1.45; }\n"
    f".{CSS_CLASS} .hll {{ background-color: rgba(255, 75, 75, 0.22); display: block; }}\n"
    f".{CSS_CLASS} .linenos, .{CSS_CLASS} .linenodiv {{ color: #8a8f98; opacity: 0.8; "
    "padding-right: 0.6rem; user-select: none; }\n"
    + "".join(f".{CSS_CLASS} .{cls} {{ color: {colour}; }}\n" for cls, colour in _COLOURS.items())
)


def _project_lexer(view: str) -> Lexer | None:
    """A lexer from app.lexers for 'jaxpr', 'stablehlo' or 'hlo', if that module offers one."""
    try:
        lexers = importlib.import_module("app.lexers")
    except ImportError:
        return None
    getter = getattr(lexers, "get_lexer", None) or getattr(lexers, "lexer_for", None)
    if callable(getter):
        try:
            found = getter(view)
        except Exception:  # an unknown view name: plain text is the honest fallback
            found = None
        if found is not None:
            return found() if isinstance(found, type) else found
    wanted = {"jaxpr": ("JaxprLexer",), "stablehlo": ("StableHLOLexer", "StableHloLexer",
              "MLIRLexer", "MlirLexer"), "hlo": ("HLOLexer", "HloLexer")}.get(view, ())
    for name in wanted:
        cls = getattr(lexers, name, None)
        if isinstance(cls, type):
            return cls()
    return None


def lexer_for(view: str) -> Lexer:
    if view == "python":
        return PythonLexer()
    return _project_lexer(view) or TextLexer()


def to_html(text: str, view: str = "python", highlight_lines: Iterable[int] = (),
            line_numbers: bool = False, first_line: int = 1) -> str:
    """A <div class=pg-hl> with the highlighted text.

    highlight_lines count from 1 at the text's first line; first_line is the number shown there.
    """
    formatter = HtmlFormatter(
        cssclass=CSS_CLASS,
        hl_lines=list(highlight_lines),
        linenos="inline" if line_numbers else False,
        linenostart=first_line,
        wrapcode=True,
    )
    if not within_budget(text):
        return (f'<div class="{CSS_CLASS}" data-plain="budget"><p>{PLAIN_NOTE}</p>'
                f"<pre>{html.escape(text)}</pre></div>")
    lexer = lexer_for(view)
    # Pygments drops leading and trailing blank lines by default, which shifts every line
    # number after them (an excerpt starting at a blank line highlighted the wrong line).
    lexer.stripnl = False
    try:
        return highlight(text, lexer, formatter)
    except Exception:  # a lexer bug must not hide the text
        return f'<div class="{CSS_CLASS}"><pre>{html.escape(text)}</pre></div>'
