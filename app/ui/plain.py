"""Text that a run produced (or a share link carried), made safe to show: never markdown, never
HTML, always bounded.

Everything in a RunResult is the run's own bytes: a run can even forge its report. So the UI shows
such text in code blocks (st.code, st.text), which render it literally; where a few words of it
must sit inside our own markdown (an alert's headline, the verdict), md_literal escapes every
ASCII punctuation character (CommonMark's backslash escapes), so `**`, `![x](url)`, `[a](b)`,
`:red[...]`, `$...$` and HTML all come out as the characters they are.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark lets a backslash escape each of them.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

HEADLINE_CHARS = 300
NAME_CHARS = 80


def bounded(text: object, limit: int) -> str:
    """str(text), at most limit characters (an ellipsis marks the cut)."""
    value = str(text)
    return value if len(value) <= limit else value[: max(0, limit - 1)] + "…"


def md_literal(text: object, limit: int = HEADLINE_CHARS) -> str:
    """text as one line of markdown that renders exactly as the characters it holds."""
    one_line = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", bounded(one_line, limit))


def md_lines(text: object, limit: int = 2000) -> str:
    """Like md_literal, keeping the line breaks (hard breaks), for a notice of a few lines."""
    lines = bounded(text, limit).splitlines() or [""]
    return "  \n".join(_PUNCTUATION.sub(r"\\\1", " ".join(line.split())) for line in lines)


def name_md(name: object, fallback: str = "an exception") -> str:
    """An exception or function name for a headline; anything that is not an identifier (a run
    can name its exception class anything) becomes the fallback."""
    value = str(name)
    if len(value) > NAME_CHARS or not _IDENTIFIER.fullmatch(value):
        return fallback
    return md_literal(value)
