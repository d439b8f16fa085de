"""One zygote per JAX runtime: the default one starts with the supervisor, any other when a run
first asks for it. Each has its runtime's interpreter (its venv), its own compilation-cache dir and
its own pool of children; the sandbox, limits, uids and slots are the supervisor's, shared.

A pool kind (app/runner/placement.py) names the runtime too where it is not the default:
"cpu@0.4.38" is a CPU child of the 0.4.38 zygote. The default runtime's kinds keep their plain
names, so a host with one runtime behaves as before.
"""

from __future__ import annotations

import selectors
from typing import Any

from app import runtimes
from app.config import Settings
from app.protocol import RuntimeInfo
from app.runner import platform as platform_module
from app.runner.supervisor.zygote_link import ZygoteLink

SEPARATOR = "@"


def pool_kind(place: str, runtime_id: str, default_id: str) -> str:
    return place if runtime_id == default_id else f"{place}{SEPARATOR}{runtime_id}"


def layer_key(session_id: str | None, runtime_id: str, default_id: str) -> str | None:
    """A session's cache layer is its own per runtime: an entry never crosses runtimes."""
    if not session_id or runtime_id == default_id:
        return session_id
    return f"{session_id}{SEPARATOR}{runtime_id}"


def split_kind(kind: str, default_id: str) -> tuple[str, str]:
    """(placement kind, runtime id) of a pool kind."""
    place, sep, runtime_id = kind.partition(SEPARATOR)
    return place, runtime_id if sep else default_id


class Zygotes:
    """The zygote of each installed runtime, created on first use."""

    def __init__(self, settings: Settings, info: platform_module.PlatformInfo,
                 selector: selectors.BaseSelector, installed: list[runtimes.Runtime]) -> None:
        self.settings = settings
        self.info = info
        self.selector = selector
        self.installed = {r.id: r for r in installed}
        # No runtime installed (a checkout before `make setup`): the server's own interpreter.
        self.default_id = installed[0].id if installed else ""
        self.links: dict[str, ZygoteLink] = {}
        self.default = self._make(self.default_id, info)

    def _make(self, runtime_id: str, info: platform_module.PlatformInfo) -> ZygoteLink:
        runtime = self.installed.get(runtime_id)
        interpreter = str(runtimes.interpreter(self.settings, runtime)) if runtime else None
        link = ZygoteLink(self.settings, info, self.selector, interpreter, runtime_id)
        self.links[runtime_id] = link
        return link

    def has(self, runtime_id: str) -> bool:
        return runtime_id in self.installed or runtime_id == self.default_id

    def get(self, runtime_id: str) -> ZygoteLink:
        """The runtime's zygote, started now if this is its first run."""
        link = self.links.get(runtime_id)
        if link is None:
            info = platform_module.for_runtime(self.info, self.settings, runtime_id)
            platform_module.runtime_cache_dir(self.settings, runtime_id).mkdir(
                mode=0o755, parents=True, exist_ok=True)
            link = self._make(runtime_id, info)
            link.start()
        return link

    def all(self) -> list[ZygoteLink]:
        return list(self.links.values())

    def owner(self, fileobj: Any) -> ZygoteLink | None:
        return next((z for z in self.links.values() if z.owns(fileobj)), None)

    def reaped(self, pid: int, status: int) -> ZygoteLink | None:
        return next((z for z in self.links.values() if z.reaped(pid, status)), None)

    def runtime_info(self, runtime_id: str) -> RuntimeInfo:
        versions = self.links[runtime_id].versions if runtime_id in self.links else {}
        return RuntimeInfo(id=runtime_id, jax=versions.get("jax", ""),
                           jaxlib=versions.get("jaxlib", ""),
                           python=versions.get("python", ""))

    def listing(self) -> list[dict[str, Any]]:
        """Every installed runtime, for the status: its zygote's state where it has one."""
        ids = list(self.installed) or [self.default_id]
        out = []
        for runtime_id in ids:
            link = self.links.get(runtime_id)
            runtime = self.installed.get(runtime_id)
            out.append({
                "id": runtime_id,
                "default": runtime_id == self.default_id,
                "jax": runtime.jax if runtime else (link.versions.get("jax", "") if link else ""),
                "started": link is not None and link.pid is not None,
                **(link.status() if link is not None else {}),
            })
        return out
