"""Which jitted functions compiled during a run, and why, from JAX's own log records.

JAX explains each tracing-cache miss (`jax_explain_cache_misses`) and announces each compilation
(`jax_log_compiles`) on the "jax" logger at WARNING. A handler on that logger collects them, so
nothing is parsed from stderr and the records never reach the user's stderr. Other records from
JAX go on to the root logger as they would have without us.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app.protocol import MAX_COMPILATIONS, MAX_REASONS, Compilation

# Messages that exist only because the flags below are on; anything else JAX logs goes through.
_COMPILE_LOG_PREFIXES = (
    "TRACING CACHE MISS",
    "Finished tracing",
    "Finished jaxpr to MLIR",
    "Finished XLA compilation",
    "Compiling ",
    "Persistent compilation cache hit",
    "PERSISTENT COMPILATION CACHE MISS",
    "Not writing persistent cache entry",
    "Writing ",
)
_FLAGS = ("jax_explain_cache_misses", "jax_log_compiles")
_REASON_LIMIT = 600

_MISS_FOR = re.compile(r"\bfor (?P<name>\S+) defined at (?P<where>\S+)")
_MISS_NEW = re.compile(r"never seen function:\s*(?P<name>\S+) id=\d+ defined at (?P<where>\S+)")
_COMPILING = re.compile(r"^Compiling (?:jit|pmap)\((?P<name>.+?)\) with global shapes and types "
                        r"(?P<avals>.*?)\. Argument mapping")
_NOW_BEFORE = re.compile(r"now (?P<now>\S+?)(?:\(\{\}\))?(?:\{weak_type=(?P<wnow>\w+)\})? and "
                         r"before (?P<before>\S+?)(?:\(\{\}\))?(?:\{weak_type=(?P<wbefore>\w+)\})?"
                         r"(?:https?://\S*)?$")
# "<class 'jax._src.tree_util.Static'> with pytree metadata Static(val=3)" -> "Static(val=3)"
_STATIC_NOISE = re.compile(
    r"<class '[\w.]*Static'> with pytree metadata (Static\(val=.*?\))(?= and|,|$)"
)
_AVAL = re.compile(r"^(?P<dtype>[a-z]+\d*)\[(?P<shape>[^\]]*)\]")


def _is_compile_record(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith(_COMPILE_LOG_PREFIXES)


def _not_compile_record(record: logging.LogRecord) -> bool:
    return not _is_compile_record(record)


def _classify(difference: str) -> str:
    """A short tag for one '* at x, now f32[4] and before f32[3]' line of JAX's explanation."""
    if "Static(" in difference or "static" in difference:
        return "static argument changed"
    match = _NOW_BEFORE.search(difference)
    if not match:
        return "inputs changed"
    now, before = _AVAL.match(match["now"]), _AVAL.match(match["before"])
    if now and before:
        if now["dtype"] != before["dtype"]:
            return "dtype changed"
        if now["shape"] != before["shape"]:
            return "shape changed"
    if match["wnow"] != match["wbefore"]:
        return "weak type changed"
    return "inputs changed"


def explain_reason(message: str) -> str:
    """One line from JAX's multi-line tracing-cache-miss explanation, with a short tag first."""
    body = message.split(":\n", 1)[1] if ":\n" in message else message
    if "never seen function" in body:
        if "re-defined repeatedly" in body:
            return ("new function object: seen another function defined on the same line; "
                    "it is probably re-created (e.g. jax.jit inside a loop), preventing caching")
        return "first compilation"
    lines = [ln.strip() for ln in body.splitlines()]
    differences = [ln.lstrip("* ").strip() for ln in lines if ln.startswith("*")]
    detail = "; ".join(differences) or " ".join(ln for ln in lines if ln)
    detail = detail.replace("https://docs.jax.dev/en/latest/type_promotion.html#weak-types", "")
    detail = _STATIC_NOISE.sub(r"\1", detail)
    tag = _classify(differences[0]) if differences else "inputs changed"
    return f"{tag}: {detail}"[:_REASON_LIMIT]


@dataclass
class _Function:
    label: str
    count: int = 0
    reasons: list[str] = field(default_factory=list)


class CompileRecorder(logging.Handler):
    """Collects compilations per user function (name + where it is defined)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._functions: dict[tuple[str, str], _Function] = {}
        self._pending: dict[str, tuple[tuple[str, str], str, bool]] = {}  # name -> key, why
        self._last_key: dict[str, tuple[str, str]] = {}
        self._last_avals: dict[tuple[str, str], str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not _is_compile_record(record):
            # What JAX logs for other reasons reaches stderr exactly as it would have.
            logging.getLogger().handle(record)
            return
        message = record.getMessage()
        if message.startswith("TRACING CACHE MISS"):
            self._on_miss(message)
            return
        compiling = _COMPILING.match(message)
        if compiling:
            self._on_compile(compiling["name"], compiling["avals"])

    def _on_miss(self, message: str) -> None:
        found = _MISS_NEW.search(message) or _MISS_FOR.search(message)
        if not found:
            return
        name, where = found["name"], found["where"]
        explained = "explanation unavailable" not in message
        self._pending[name] = ((name, where), explain_reason(message), explained)

    def _on_compile(self, name: str, avals: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is None:
            key = self._last_key.get(name)
            if key is None:  # a JAX-internal function or an eager primitive: not the user's
                return
            reason = "compiled again without retracing (e.g. ahead-of-time lower().compile())"
        else:
            key, reason, explained = pending
            before = self._last_avals.get(key)
            if not explained and before is not None:
                reason = _compare_avals(avals, before)
        self._last_key[name] = key
        self._last_avals[key] = avals
        entry = self._functions.get(key)
        if entry is None:
            entry = self._functions[key] = _Function(_label(*key))
        entry.count += 1
        entry.reasons.append(reason)

    def compilations(self) -> list[Compilation]:
        """Within the protocol's caps: the first functions, each with its first reasons (the
        count stays exact); the runner refuses a report beyond them."""
        return [Compilation(f.label, f.count, f.reasons[:MAX_REASONS])
                for f in list(self._functions.values())[:MAX_COMPILATIONS]]


def _compare_avals(now: str, before: str) -> str:
    """Our own reason where JAX gave none (some versions say "explanation unavailable")."""
    if now == before:
        return ("static argument changed (or another non-array input): the array inputs are "
                f"the same as before, {now}; JAX gave no further detail")[:_REASON_LIMIT]
    return f"inputs changed: now {now} and before {before}"[:_REASON_LIMIT]


def _label(name: str, where: str) -> str:
    """"loss (line 3)" for the user's functions, so two functions of one name stay apart."""
    parts = where.split(":")
    if where.startswith("<snippet>") and len(parts) >= 2 and parts[1].isdigit():
        return f"{name} (line {parts[1]})"
    return f"{name} ({where})"


@contextmanager
def record_compilations() -> Iterator[CompileRecorder]:
    """Turn on JAX's compile logs for the block; collect them; restore everything after."""
    import jax

    recorder = CompileRecorder()
    logger = logging.getLogger("jax")
    previous: dict[str, Any] = {flag: getattr(jax.config, flag) for flag in _FLAGS}
    propagate = logger.propagate
    # An older JAX (0.4) has its own stderr handler on this logger: it must not print them.
    theirs = list(logger.handlers)
    for handler in theirs:
        handler.addFilter(_not_compile_record)
    logger.addHandler(recorder)
    logger.propagate = False
    for flag in _FLAGS:
        jax.config.update(flag, True)
    try:
        yield recorder
    finally:
        for flag, value in previous.items():
            jax.config.update(flag, value)
        logger.propagate = propagate
        logger.removeHandler(recorder)
        for handler in theirs:
            handler.removeFilter(_not_compile_record)
