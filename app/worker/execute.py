"""Runs the user's code inside the sandboxed child and builds its WorkerReport.

Called by the runner's child process after the sandbox is in place. Never imports streamlit or
app.ui. stdout/stderr are not captured here: the child's fds 1 and 2 are pipes that the
supervisor reads (and caps), so prints, jax.debug.print and XLA's C++ logs all arrive in order.
JAX's compile logs are the exception: they are collected through logging (see compile_log) into
report.compilations and never reach stderr.
"""

from __future__ import annotations

import ast
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from app.protocol import RunRequest, WorkerReport
from app.worker import cache_layer, checking
from app.worker.compile_log import record_compilations
from app.worker.errors import SNIPPET_FILENAME, error_info, register_source
from app.worker.inspection import inspect_function
from app.worker.source_map import only_user_frames
from app.worker.values import value_tree

__all__ = ["SNIPPET_FILENAME", "error_info", "execute", "register_source"]

VALUE_REPR_LIMIT = 10_000


def _compile(code: str) -> tuple[Any, Any | None]:
    """Compile the module body, and its last statement separately if it is an expression."""
    tree = ast.parse(code, SNIPPET_FILENAME, "exec")
    last_expr = None
    if tree.body and isinstance(last := tree.body[-1], ast.Expr):
        tree.body.pop()
        last_expr = ast.Expression(last.value)
    body = compile(tree, SNIPPET_FILENAME, "exec")
    return body, compile(last_expr, SNIPPET_FILENAME, "eval") if last_expr else None


def _barrier() -> None:
    """Wait for pending jax.debug.print callbacks so no output is lost."""
    jax = sys.modules.get("jax")
    if jax is not None:
        # The run's own error is what matters; a failing barrier never masks it.
        with contextlib.suppress(Exception):
            jax.effects_barrier()


@contextlib.contextmanager
def _x64(enabled: bool) -> Iterator[None]:
    """jax_enable_x64 for this run only, off unless asked for, as in JAX itself."""
    import jax

    previous = jax.config.jax_enable_x64  # type: ignore[attr-defined]
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def _run_snippet(request: RunRequest, namespace: dict[str, Any], report: WorkerReport) -> bool:
    """Execute the code; True when it finished without an exception."""
    try:
        body, last = _compile(request.code)
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                report.value_repr = repr(value)[:VALUE_REPR_LIMIT]
                report.value_tree = value_tree(value)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            report.error = error_info(exc)
            return False
    except BaseException as exc:  # everything the user raises is reported
        report.error = error_info(exc)
        return False
    finally:
        _barrier()
        sys.stdout.flush()
        sys.stderr.flush()
    return True


def _check(check_code: str, namespace: dict[str, Any], guard: checking.Snapshot,
           report: WorkerReport) -> checking.CheckResult:
    """The exercise's check after the person's code (which must have run to the end)."""
    if report.error is not None:
        return checking.code_error_result(report.error)
    try:
        return checking.run_check(check_code, namespace, guard)
    finally:
        _barrier()
        sys.stdout.flush()
        sys.stderr.flush()


def execute(request: RunRequest) -> tuple[WorkerReport, dict[str, Any]]:
    """Run request.code in a fresh __main__-like namespace; return the report and namespace."""
    register_source(request.code)
    only_user_frames()
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": SNIPPET_FILENAME}
    report = WorkerReport()
    guard: checking.Snapshot | None = None
    if request.check is not None:
        checking.helpers()  # import what the check uses, then note it before any user code
        guard = checking.snapshot()
    with _x64(request.x64):
        with record_compilations() as recorder:
            finished = _run_snippet(request, namespace, report)
        report.compilations = recorder.compilations()
        if request.check is not None and guard is not None:
            report.check = _check(request.check, namespace, guard, report)
        if finished and request.inspect is not None:
            try:
                report.inspect = inspect_function(request.inspect, namespace)
            finally:
                _barrier()
                sys.stdout.flush()
                sys.stderr.flush()
    report.compile_cache = {k: v for k, v in cache_layer.counts().items() if v}
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            report.platform = jax.default_backend()
        except Exception:
            report.platform = None
    return report, namespace
