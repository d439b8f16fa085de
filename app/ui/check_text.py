"""A check's message as markdown that teaches: `code` in backticks shows as code, and an
address of the JAX, NumPy or Python documentation is a real link; every other character is
plain text (app.ui.plain).

The message comes from the run (a same-process check can be forged by the person's own code),
so nothing in it may become markup beyond those two: code spans hold no backtick and render
literally, and a link is made only for https addresses on the documentation hosts below, with
a conservative set of characters (anything else stays inert text).
"""

from __future__ import annotations

import re

from app.ui.plain import bounded, md_escape, text

DOC_HOSTS = ("docs.jax.dev", "jax.readthedocs.io", "numpy.org", "docs.python.org",
             "openxla.org")
_HOST = "|".join(re.escape(h) for h in DOC_HOSTS)
_PIECE = re.compile(
    r"`(?P<code>[^`\n]{1,200})`"
    rf"|(?P<url>https://(?:{_HOST})(?:/[A-Za-z0-9._~/%#?=&+-]*)?)"
)
MESSAGE_CHARS = 2000


def check_markdown(message: str) -> str:
    """message (bounded) as one markdown line."""
    message = " ".join(bounded(message, MESSAGE_CHARS).split())
    out: list[str] = []
    last = 0
    for match in _PIECE.finditer(message):
        out.append(text(message[last:match.start()]))
        if match.group("code") is not None:
            out.append(f"`{match.group('code')}`")
            last = match.end()
        else:
            url = match.group("url").rstrip(".,;:?")  # the sentence's own full stop
            out.append(f"[{md_escape(url)}]({url})")
            last = match.start() + len(url)
    out.append(text(message[last:]))
    return "".join(out)
