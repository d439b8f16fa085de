"""Text from people and from runs, shown as text only: never markdown, never HTML, bounded.

Streamlit renders markdown in titles, captions and alerts (never raw HTML unless asked), so a
name like `[click](https://…)` or `![](https://…/pixel.png)` would become a link or an image.
Every markdown-significant character is backslash-escaped: the text reads exactly as typed.

Everything in a RunResult is the run's own bytes (a run can even forge its report): the result
panels show such text in code blocks (st.code), which render it literally; where a few words of it
must sit inside our own markdown (an alert's headline, a notice, the verdict), md_literal and
md_lines escape it with text() and bound it.
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&])")
# Bare addresses and e-mails become links even when escaped (GFM autolinks): an invisible word
# joiner (U+2060) after ":", "www" and "@" keeps them plain text.
_AUTOLINK = re.compile(r"(:)(//)|((?i:www))(\.)|(@)()")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

HEADLINE_CHARS = 300
NAME_CHARS = 80


def _join(match: re.Match[str]) -> str:
    head, tail = [part for part in match.groups() if part is not None]
    return f"{head}\u2060{tail}"


def text(value: str) -> str:
    """value, safe to put inside any markdown string Streamlit renders."""
    value = _AUTOLINK.sub(_join, value)
    return _MARKDOWN.sub(r"\\\1", value).replace("\n", " ")


def md_escape(value: str) -> str:
    """value with every markdown character escaped, for a link's own text (an address shown as
    the link it is: no invisible joiner, which would travel with a copy)."""
    return _MARKDOWN.sub(r"\\\1", value)


def bounded(value: object, limit: int) -> str:
    """str(value), at most limit characters (an ellipsis marks the cut)."""
    value = str(value)
    return value if len(value) <= limit else value[: max(0, limit - 1)] + "…"


def md_literal(value: object, limit: int = HEADLINE_CHARS) -> str:
    """value as one line of markdown that renders exactly as the characters it holds."""
    return text(bounded(" ".join(str(value).split()), limit))


def md_lines(value: object, limit: int = 2000) -> str:
    """Like md_literal, keeping the line breaks (hard breaks), for a notice of a few lines."""
    lines = bounded(value, limit).splitlines() or [""]
    return "  \n".join(text(" ".join(line.split())) for line in lines)


def name_md(name: object, fallback: str = "an exception") -> str:
    """An exception or function name for a headline; anything that is not an identifier (a run
    can name its exception class anything) becomes the fallback."""
    value = str(name)
    if len(value) > NAME_CHARS or not _IDENTIFIER.fullmatch(value):
        return fallback
    return text(value)
