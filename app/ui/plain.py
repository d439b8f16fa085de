"""User text (names, room names, messages that quote code or values) shown as text only.

Streamlit renders markdown in titles, captions and alerts (never raw HTML unless asked), so a
name like `[click](https://…)` or `![](https://…/pixel.png)` would become a link or an image.
Every markdown-significant character is backslash-escaped: the text reads exactly as typed.
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&])")
# Bare addresses and e-mails become links even when escaped (GFM autolinks): an invisible word
# joiner (U+2060) after ":", "www" and "@" keeps them plain text.
_AUTOLINK = re.compile(r"(:)(//)|((?i:www))(\.)|(@)()")


def _join(match: re.Match[str]) -> str:
    head, tail = [part for part in match.groups() if part is not None]
    return f"{head}\u2060{tail}"


def text(value: str) -> str:
    """value, safe to put inside any markdown string Streamlit renders."""
    value = _AUTOLINK.sub(_join, value)
    return _MARKDOWN.sub(r"\\\1", value).replace("\n", " ")
