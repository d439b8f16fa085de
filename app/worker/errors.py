"""The user's exception as they should see it: their frames and line numbers only."""

from __future__ import annotations

import linecache
import traceback
from types import TracebackType

from app.protocol import ErrorInfo

SNIPPET_FILENAME = "<snippet>"


def register_source(code: str) -> None:
    """Let tracebacks, jaxpr source_info and HLO locations show the user's lines."""
    linecache.cache[SNIPPET_FILENAME] = (len(code), None, code.splitlines(True), SNIPPET_FILENAME)


def _user_line(tb: TracebackType | None) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == SNIPPET_FILENAME:
            line = lineno
    return line


def error_info(exc: BaseException) -> ErrorInfo:
    """The exception as the user should see it: their frames only, their line numbers."""
    if isinstance(exc, SyntaxError) and exc.filename == SNIPPET_FILENAME:
        text = "".join(traceback.format_exception_only(type(exc), exc))
        return ErrorInfo(type(exc).__name__, exc.msg or str(exc), exc.lineno, text)
    tb = exc.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if f.filename == SNIPPET_FILENAME]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return ErrorInfo(type(exc).__name__, str(exc), _user_line(tb), text)
