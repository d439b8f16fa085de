"""IR listings that show where each line came from, as Compiler Explorer does for assembly.

Each line of a jaxpr / StableHLO / HLO listing carries the user's source line the worker mapped
it to (InspectResult.source_lines): a gutter shows the number, the line gets that source line's
colour, and the code that ran is shown beside the listing in the same colours, with a legend.
Hovering a line (IR or source) lights up every line from the same source line, in every
listing of the page's area, with pure CSS (`:has()`): no script runs. Picking a source line in
the selector marks those lines (class `pgx-pick`) in every IR tab and in the code.

Everything shown is escaped text: the listings come from the sandboxed run.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st
from pygments.token import STANDARD_TYPES, Name, _TokenType

from app import op_docs
from app.protocol import InspectResult
from app.ui.widgets.highlight import CSS_CLASS, PLAIN_NOTE, lexer_for, within_budget

# Mid-tone hues: a 16% tint under text reads on both #ffffff and #0e1117, and the solid hue
# in the gutter bar and legend chips keeps >= 3:1 against both backgrounds.
PALETTE = (
    (230, 85, 13), (49, 130, 189), (49, 163, 84), (156, 102, 204), (214, 39, 40),
    (23, 190, 207), (188, 140, 20), (227, 119, 194), (99, 121, 57), (140, 109, 49),
    (82, 84, 163), (127, 127, 127),
)
_TINT, _PICK_TINT = 0.16, 0.42

STYLESHEET = (
    ".pgx { margin-bottom: 0.6rem; }\n"
    ".pgx-panes { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-start; }\n"
    ".pgx-src { flex: 1 1 15rem; min-width: 0; }\n"
    ".pgx-ir { flex: 3 1 24rem; min-width: 0; }\n"
    f".pgx .{CSS_CLASS} {{ margin-bottom: 0; }}\n"
    ".pgx-l { display: block; white-space: pre; border-left: 4px solid transparent; "
    "padding-left: 0.3rem; }\n"
    ".pgx-g { display: inline-block; min-width: 2.2em; text-align: right; color: #8a8f98; "
    "padding-right: 0.6em; user-select: none; }\n"
    ".pgx-pick { outline: 2px solid currentColor; outline-offset: -1px; }\n"
    ".pgx-pick .pgx-g { font-weight: 700; }\n"
    ".pgx-legend { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; font-size: 0.8rem; "
    "margin: 0.3rem 0 0.2rem; }\n"
    ".pgx-chip { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 0.2em; "
    "margin-right: 0.3em; vertical-align: -0.05em; }\n"
    ".pgx-legend code { font-size: 0.78rem; }\n"
    ".pgx-op { text-decoration: underline dotted rgba(128,128,128,0.7); cursor: help; }\n"
    + "".join(
        f".pgx-c{i} {{ background: rgba({r},{g},{b},{_TINT}); "
        f"border-left-color: rgb({r},{g},{b}); }}\n"
        f".pgx-c{i}.pgx-pick {{ background: rgba({r},{g},{b},{_PICK_TINT}); }}\n"
        f".pgx-k{i} {{ background: rgb({r},{g},{b}); }}\n"
        for i, (r, g, b) in enumerate(PALETTE)
    )
)


@dataclass
class IrContext:
    """What the listings of one result area share."""

    scope: str  # the area: CSS scope of the hover links and the widget keys
    picked: int | None = None  # the source line picked in the selector
    draw_picker: bool = True  # False where the page draws one picker for several results
    history: str | None = None  # where "the previous run" is kept (default: the scope)


def scope_name(area: str) -> str:
    """A CSS-safe class suffix for an area id."""
    return re.sub(r"[^a-z0-9]+", "-", area.lower()).strip("-")[:80] or "area"


def colour_map(mappings: Iterable[list[int | None]]) -> dict[int, int]:
    """Source line -> palette index, in line order, shared by every listing of a result."""
    lines = sorted({n for mapping in mappings for n in mapping if n is not None})
    return {line: index % len(PALETTE) for index, line in enumerate(lines)}


def _css(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def _is_op_token(view: str, ttype: _TokenType) -> bool:
    if view == "stablehlo":
        return ttype in Name.Builtin or ttype in Name.Function
    return ttype in Name.Function


def highlighted_lines(text: str, view: str) -> list[str]:
    """The text as one HTML fragment per line; ops with an entry in the op table get a title.
    Past the highlighting budget the lines are plain escaped text."""
    if not within_budget(text):
        return [html.escape(line) for line in text.split("\n")]
    lexer = type(lexer_for(view))(stripnl=False, ensurenl=False)
    lines: list[list[str]] = [[]]
    for ttype, value in lexer.get_tokens(text):
        css = _css(ttype)
        doc = op_docs.lookup(view, value) if _is_op_token(view, ttype) else None
        for index, part in enumerate(value.split("\n")):
            if index:
                lines.append([])
            if not part:
                continue
            escaped = html.escape(part)
            if doc is not None:
                title = html.escape(f"{doc.op}: {doc.meaning}", quote=True)
                lines[-1].append(f'<span class="{css} pgx-op" title="{title}">{escaped}</span>')
            elif css:
                lines[-1].append(f'<span class="{css}">{escaped}</span>')
            else:
                lines[-1].append(escaped)
    count = text.count("\n") + 1
    fragments = ["".join(parts) for parts in lines]
    return (fragments + [""] * count)[:count]


def _line_div(number: int | None, gutter: str, body: str, colours: dict[int, int],
              picked: int | None, title: str | None = None) -> str:
    classes = ["pgx-l"]
    if number is not None:
        classes.append(f"pgx-s{number}")
        if number in colours:
            classes.append(f"pgx-c{colours[number]}")
        if number == picked:
            classes.append("pgx-pick")
    data = f' data-src="{number}"' if number is not None else ""
    tip = f' title="{html.escape(title, quote=True)}"' if title else ""
    return (f'<span class="{" ".join(classes)}"{data}{tip}><span class="pgx-g">{gutter}</span>'
            f"{body or ' '}</span>")


def listing_html(text: str, view: str, lines: list[int | None] | None, code: str,
                 colours: dict[int, int], picked: int | None) -> str:
    """One listing with a source-line gutter (the pane on the right)."""
    mapping = list(lines or [])
    fragments = highlighted_lines(text, view)
    mapping = (mapping + [None] * len(fragments))[: len(fragments)]
    code_lines = code.splitlines()
    rows = []
    for fragment, number in zip(fragments, mapping, strict=True):
        source = (code_lines[number - 1].strip() if number is not None
                  and 0 < number <= len(code_lines) else None)
        rows.append(_line_div(number, "" if number is None else str(number), fragment, colours,
                              picked, f"line {number}: {source}" if source else None))
    return (f'<div class="{CSS_CLASS} pgx-ir" data-view="{html.escape(view)}"><pre><code>'
            + "".join(rows) + "</code></pre></div>")


def source_html(code: str, colours: dict[int, int], picked: int | None) -> str:
    """The code that ran, numbered and coloured by the same map (the pane on the left)."""
    fragments = highlighted_lines(code.rstrip("\n"), "python")
    rows = [_line_div(n, str(n), fragment, colours, picked)
            for n, fragment in enumerate(fragments, start=1)]
    return (f'<div class="{CSS_CLASS} pgx-src" data-view="source"><pre><code>'
            + "".join(rows) + "</code></pre></div>")


def legend_html(code: str, counts: Counter[int], colours: dict[int, int]) -> str:
    code_lines = code.splitlines()
    items = []
    for number in sorted(counts):
        text = code_lines[number - 1].strip() if 0 < number <= len(code_lines) else ""
        chip = f'<span class="pgx-chip pgx-k{colours.get(number, 0)}"></span>'
        shown = text if len(text) <= 48 else text[:47] + "…"
        many = "line" if counts[number] == 1 else "lines"
        # The count is said in words before the code, so that it never reads as part of it.
        items.append(f'<span class="pgx-s{number}">{chip}line {number} '
                     f"({counts[number]} IR {many}): <code>{html.escape(shown)}</code></span>")
    unmapped = counts.total() == 0
    if unmapped:
        return '<div class="pgx-legend">No line of this listing maps to your code.</div>'
    return '<div class="pgx-legend">' + "".join(items) + "</div>"


def hover_style(scope: str, numbers: Iterable[int]) -> str:
    """Hovering a line from source line N lights every line from N in the same scope."""
    root = f".pgx-{scope}"
    rules = [f"body:has({root} .pgx-s{n}:hover) {root} .pgx-s{n}"
             for n in sorted(set(numbers))]
    if not rules:
        return ""
    return ("<style>" + ",\n".join(rules)
            + " { outline: 1px dashed currentColor; outline-offset: -1px; "
            "filter: saturate(1.8); }</style>")


def _within(mapping: list[int | None] | None, count: int) -> list[int | None] | None:
    if mapping is None:
        return None
    return [n if isinstance(n, int) and 0 < n <= count else None for n in mapping]


def block_html(text: str, view: str, inspect: InspectResult, code: str,
               context: IrContext) -> str:
    """Source pane + listing pane + legend, in the area's scope."""
    count = len(code.splitlines())
    # A line number outside the code maps nowhere (a forged report may send 200,000 of them:
    # each would cost a legend entry and a hover rule).
    lines = _within(inspect.source_lines.get(view), count)
    colours = colour_map(_within(m, count) or [] for m in inspect.source_lines.values())
    counts: Counter[int] = Counter(n for n in (lines or []) if n is not None)
    scope = scope_name(context.scope)
    parts = [hover_style(scope, colours), f'<div class="pgx pgx-{scope}"><div class="pgx-panes">']
    if lines is not None:
        parts.append(source_html(code, colours, context.picked))
    parts.append(listing_html(text, view, lines, code, colours, context.picked))
    parts.append("</div>")
    if lines is not None:
        parts.append(legend_html(code, counts, colours))
    parts.append("</div>")
    return "".join(parts)


def mapped_lines(*inspects: InspectResult | None) -> list[int]:
    found = {n for i in inspects if i for lines in i.source_lines.values() for n in lines if n}
    return sorted(found)


def line_picker(key: str, code: str, lines: list[int]) -> int | None:
    """The compact selector: which source line to mark in every IR tab (None: none)."""
    if not lines:
        return None
    code_lines = code.splitlines()

    def label(number: int | None) -> str:
        if number is None:
            return "none"
        text = code_lines[number - 1].strip() if 0 < number <= len(code_lines) else ""
        return f"line {number}: {text[:60]}"

    current = st.session_state.get(key)
    if current is not None and current not in lines:
        st.session_state[key] = None  # a line the new run no longer maps
    return st.selectbox("Mark the IR of source line", [None, *lines], format_func=label,
                        key=key, help="Every jaxpr / HLO line that came from this line of your "
                        "code is outlined, in every tab; hovering a line does the same.")


def show_block(text: str | None, view: str, inspect: InspectResult, code: str | None,
               context: IrContext, missing: str, truncated: bool = False,
               wrap: bool = False) -> None:
    """A listing with gutter, colours and its source; the plain text one click away.
    wrap: long lines wrap instead of scrolling sideways (narrow side-by-side panels)."""
    if not text:
        st.caption(missing)
        return
    if truncated:
        st.warning("This listing was cut at the size limit.", icon=":material/content_cut:")
    if not within_budget(text):
        st.caption(PLAIN_NOTE)
    body = block_html(text, view, inspect, code or "", context)
    st.html(f'<div class="pg-wrap">{body}</div>' if wrap else body)
    show_ops(inspect.ops.get(view, []), view)
    with st.expander("Plain text (copy button at the top right)"):
        st.code(text, language=None, wrap_lines=wrap)


def show_ops(ops: list[str], view: str) -> None:
    """The legend of the ops in a listing: one line each, linked to the official docs."""
    if not ops:
        return
    known = [doc for doc in (op_docs.lookup(view, op) for op in ops) if doc is not None]
    unknown = [op for op in ops if op_docs.lookup(view, op) is None]
    with st.expander(f"What the {len(ops)} ops in this listing mean"):
        rows = [f"- [`{doc.op}`]({doc.url}): {doc.meaning}" for doc in known]
        if unknown:
            rows.append("- no entry yet: " + ", ".join(f"`{op}`" for op in unknown))
        st.markdown("\n".join(rows))
