"""Runs the user's code inside the sandboxed child and builds its WorkerReport.

Called by the runner's child process after the sandbox is in place. Never imports streamlit or
app.ui. stdout/stderr are not captured here: the child's fds 1 and 2 are pipes that the
supervisor reads (and caps), so prints, jax.debug.print and XLA's C++ logs all arrive in order.
"""

from __future__ import annotations

import ast
import contextlib
import linecache
import sys
import traceback
from types import TracebackType
from typing import Any

from app.protocol import ErrorInfo, RunRequest, WorkerReport

SNIPPET_FILENAME = "<snippet>"
VALUE_REPR_LIMIT = 10_000


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


def _compile(code: str) -> tuple[Any, Any | None]:
    """Compile the module body, and its last statement separately if it is an expression."""
    tree = ast.parse(code, SNIPPET_FILENAME, "exec")
    last_expr = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last_expr = ast.Expression(tree.body.pop().value)
    body = compile(tree, SNIPPET_FILENAME, "exec")
    return body, compile(last_expr, SNIPPET_FILENAME, "eval") if last_expr else None


def _barrier() -> None:
    """Wait for pending jax.debug.print callbacks so no output is lost."""
    jax = sys.modules.get("jax")
    if jax is not None:
        # The run's own error is what matters; a failing barrier never masks it.
        with contextlib.suppress(Exception):
            jax.effects_barrier()


def execute(request: RunRequest) -> tuple[WorkerReport, dict[str, Any]]:
    """Run request.code in a fresh __main__-like namespace; return the report and namespace."""
    register_source(request.code)
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": SNIPPET_FILENAME}
    report = WorkerReport()
    try:
        if request.x64:
            import jax

            jax.config.update("jax_enable_x64", True)
        body, last = _compile(request.code)
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                report.value_repr = repr(value)[:VALUE_REPR_LIMIT]
    except SystemExit as exc:
        if exc.code not in (None, 0):
            report.error = error_info(exc)
    except BaseException as exc:  # everything the user raises is reported
        report.error = error_info(exc)
    finally:
        _barrier()
        sys.stdout.flush()
        sys.stderr.flush()
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            report.platform = jax.default_backend()
        except Exception:
            report.platform = None
    return report, namespace
