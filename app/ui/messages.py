"""Plain words for every run status: a headline the UI frames around the runner's own sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.config import settings
from app.protocol import RunResult

Tone = Literal["success", "error", "warning", "info"]


@dataclass(frozen=True)
class StatusMessage:
    tone: Tone
    headline: str
    detail: str  # the runner's sentence, or our own where it gave none


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / (1 << 20):g} MiB"


def status_message(result: RunResult) -> StatusMessage:
    """What to tell the person about this result. Never a stack trace of the app."""
    limits = settings()
    error_name = result.error.type if result.error else "an exception"
    table: dict[str, tuple[Tone, str, str]] = {
        "ok": ("success", f"Ran in {result.duration_s:.2f} s.", ""),
        "error": (
            "error",
            f"Your code raised {error_name}.",
            "See the Output tab for the message and the line it came from.",
        ),
        "timeout": (
            "warning",
            "Time limit reached: the run was stopped.",
            f"Runs may take at most {limits.timeout_s:g} s of wall time and "
            f"{limits.cpu_s:g} s of CPU. An endless loop, or work much larger than a demo needs?",
        ),
        "memory": (
            "warning",
            "Memory limit reached: the run was stopped.",
            f"Runs may use at most {limits.memory_mb} MiB, JAX itself included. "
            "Try smaller arrays.",
        ),
        "output_limit": (
            "warning",
            "Output limit reached: the run printed too much and was stopped.",
            f"Runs may print at most {_mib(limits.output_bytes)}; "
            "what came before the cut is shown.",
        ),
        "crashed": (
            "error",
            "The worker process crashed.",
            "The sandboxed process died before it could report (a segfault or an abort). "
            "Other runs are not affected; try again or simplify the code.",
        ),
        "rejected": ("error", "Not run.", "The playground refused this run."),
        "busy": (
            "warning",
            "The server is busy: every slot and the queue are taken.",
            "Nothing ran. Wait a few seconds and press Run again.",
        ),
        "cancelled": ("info", "Stopped.", "You stopped this run; what it printed is shown."),
    }
    tone, headline, fallback = table.get(
        result.status, ("error", f"Unknown status {result.status!r}.", "")
    )
    if result.status == "ok":  # the headline says it all; the runner's "Finished." adds nothing
        return StatusMessage(tone=tone, headline=headline, detail="")
    return StatusMessage(tone=tone, headline=headline, detail=result.message or fallback)


def progress_message(kind: str, position: int | None, elapsed_s: float | None = None,
                     limit_s: float | None = None) -> str:
    """The line shown while a run waits or runs; a running one counts its seconds against
    its time limit."""
    if kind == "queued":
        ahead = "" if position is None else f" (position {position})"
        return f"Queued{ahead}: waiting for a free sandbox…"
    if kind == "running":
        if elapsed_s is None:
            return "Running in the sandbox…"
        limit = f" of {limit_s:g} s" if limit_s else ""
        return f"Running in the sandbox… {elapsed_s:.1f} s{limit}"
    return "Sending to the sandbox…"

