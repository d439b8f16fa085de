"""Where a run runs (RunRequest.target): a small choice beside Run, kept per area."""

from __future__ import annotations

from typing import Any

from app.config import settings
from app.ui import state

LABELS = {"auto": "Auto", "accelerator": "Accelerator", "cpu": "CPU devices"}


def target_picker(container: Any, key: str) -> str:
    """The person's choice: "auto", "accelerator" or "cpu"."""
    devices = settings().cpu_devices
    choice = state.widget(
        container.radio, "Run on", key, "auto", options=list(LABELS),
        format_func=LABELS.get, horizontal=True,
        help=(f"Auto: the server's accelerator, or the CPU with {devices} host devices when the "
              "code uses pmap or sharding and the accelerator has fewer devices. "
              "On a server without an accelerator every run is on the CPU."))
    return choice if choice in LABELS else "auto"
