"""The user's exception as they should see it: their frames and line numbers only."""

from __future__ import annotations

import errno
import linecache
import socket
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


# Errors that are the sandbox saying no, not a bug in the code: one sentence on why.
_NO_NETWORK = "Runs have no network: the sandbox gives them no network interface."
_PROCESS_CAP = ("The sandbox caps the processes and threads one run may start "
                "(PLAYGROUND_MAX_PIDS on the server); this code reached that cap.")
_READ_ONLY = ("Only the run's own folder is writable (the current directory, HOME, /tmp); "
              "everything else is read-only or hidden, and all of it is gone after the run.")


def sandbox_advice(exc: BaseException) -> str | None:
    """Why the sandbox refused what the code tried, if that is what this exception is."""
    if isinstance(exc, socket.gaierror) or (
        isinstance(exc, OSError)
        and exc.errno in {errno.EAFNOSUPPORT, errno.ENETUNREACH, errno.EHOSTUNREACH}
    ):
        return _NO_NETWORK
    if (isinstance(exc, BlockingIOError) and exc.errno == errno.EAGAIN) or (
        isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)
    ):
        return _PROCESS_CAP
    if isinstance(exc, OSError) and exc.errno in {errno.EACCES, errno.EROFS, errno.EPERM}:
        return _READ_ONLY if getattr(exc, "filename", None) else None
    return None


def error_info(exc: BaseException) -> ErrorInfo:
    """The exception as the user should see it: their frames only, their line numbers."""
    if isinstance(exc, SyntaxError) and exc.filename == SNIPPET_FILENAME:
        text = "".join(traceback.format_exception_only(type(exc), exc))
        return ErrorInfo(type(exc).__name__, exc.msg or str(exc), exc.lineno, text)
    tb = exc.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if f.filename == SNIPPET_FILENAME]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return ErrorInfo(type(exc).__name__, str(exc), _user_line(tb), text,
                     advice=sandbox_advice(exc))
