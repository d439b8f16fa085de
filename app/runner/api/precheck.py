"""The checks every runner, local or remote, makes before a request goes anywhere.

The size counts the code and an exercise's check together: both travel with the request and both
run. The run id, when the caller chose one, must be a short name (protocol.RUN_ID): it names the
run in the supervisor, in Redis and in a stop request.
"""

from __future__ import annotations

from app.config import Settings
from app.protocol import RUN_ID, RunRequest, RunResult


def request_bytes(request: RunRequest) -> int:
    """The code's size in UTF-8 bytes, an exercise's check included."""
    size = len(request.code.encode("utf-8", "surrogatepass"))
    if request.check is not None:
        size += len(request.check.encode("utf-8", "surrogatepass"))
    return size


def refusal(request: RunRequest, settings: Settings) -> RunResult | None:
    """The "rejected" result for a request no runner may take; None: it may go on."""
    size = request_bytes(request)
    if size > settings.code_bytes:
        return RunResult(status="rejected", message=(
            f"The code is {size / 1024:.0f} KiB; the limit is "
            f"{settings.code_bytes / 1024:.0f} KiB. Run a smaller snippet."))
    if request.run_id is not None and (not isinstance(request.run_id, str)
                                       or not RUN_ID.fullmatch(request.run_id)):
        return RunResult(status="rejected",
                         message="The run's id is not valid (1-64 letters, digits, - or _).")
    return None
