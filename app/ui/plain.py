"""User text (names, room names, messages that quote code or values) shown as text only.

Streamlit renders markdown in titles, captions and alerts (never raw HTML unless asked), so a
name like `[click](https://…)` or `![](https://…/pixel.png)` would become a link or an image.
Every markdown-significant character is backslash-escaped: the text reads exactly as typed.
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&])")


def text(value: str) -> str:
    """value, safe to put inside any markdown string Streamlit renders."""
    return _MARKDOWN.sub(r"\\\1", value).replace("\n", " ")
