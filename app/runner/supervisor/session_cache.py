"""Each session's own writable compilation-cache layer, over the shared read-only cache.

Why: a rerun of unchanged or lightly edited code should load what the previous run compiled (on a
GPU, seconds of XLA compilation and autotuning), but a cache that runs may write is a poisoning
path: whoever writes an entry chooses the code that every later reader of that key runs. So a
run reads the shared cache (filled only by the trusted warm-up, mounted read-only) and its own
session's layer, and writes only to that layer: nothing a run writes is ever loaded by a run of
another session.

What: the layer is a detached tmpfs (app/runner/supervisor/detached_tmpfs.py) of
PLAYGROUND_SESSION_CACHE_MB, one per session id, made on the session's first run. It is the one
writable place a run has besides its private tmpfs, and it is not a mount in the run's file system
at all: the supervisor passes the run a descriptor of it together with its request
(app/runner/supervisor/pipes.py), the run's worker holds it at a fixed descriptor number and points
JAX at `/proc/self/fd/N`
(app/worker/cache_layer.py). A run of another session never gets that descriptor, and no path
leads to the tmpfs. A run without a session id gets no layer.

Bounds: the tmpfs's size and inode count are the cap (the kernel refuses writes past them); a run
that fills its layer is stopped with `output_limit` and the layer is dropped (the next run starts
with an empty one); between runs the oldest entries are evicted once a layer is three-quarters
full; a layer unused for PLAYGROUND_SESSION_CACHE_IDLE_S is dropped. At most
PLAYGROUND_SESSION_CACHE_SESSIONS layers exist at once, fewer where their caps together would
pass MEMORY_SHARE of the host's memory, and one client (client_limits.limit_key) holds at most
CLIENT_SHARE of them: a client making new sessions recycles its own layers, never another's; a
new client's first layer pushes out the least recent layer of whoever holds the most.

What a run left in its layer is hostile input (any names, depth, sizes, links, modes): the
supervisor only lists, measures and unlinks entries, by descriptor, never following a link and
never recursing (tree_removal.py); it never opens or reads what a run wrote; and
whatever goes wrong while it evicts drops the whole layer (closing its descriptor frees the
tmpfs) instead of raising.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from app.config import Settings
from app.runner.supervisor import detached_tmpfs, tree_removal

MIB = 1 << 20
FILES_PER_MIB = 64  # inodes: JAX writes one file per compiled program, XLA one per autotuned op
EVICT_AT = 0.75  # between runs, a layer fuller than this ...
EVICT_TO = 0.5  # ... loses its oldest entries down to this
FULL_MARGIN_BYTES = 256 * 1024  # less room than this left at the end of a run: it filled it
MEMORY_SHARE = 1 / 8  # the layers' caps together stay within this share of the host's memory
CLIENT_SHARE = 1 / 4  # one client holds at most this share of the layers (at least one)
REMOVAL_STEPS_PER_INODE = 4  # eviction's work bound: a few steps per inode the layer may hold

log = logging.getLogger("playground.supervisor")


@dataclass
class Layer:
    session_id: str
    fd: int
    last_used: float
    client: str | None = None
    running: int = 0
    evictions: int = 0


class SessionLayers:
    """The layers of the sessions that ran lately, keyed by RunRequest.session_id."""

    def __init__(self, settings: Settings, shared_by_uids: bool,
                 host_memory_bytes: int | None = None) -> None:
        """shared_by_uids: the runs of one session have uids of their own (the supervisor is
        root and gives each run its uid, app/runner/supervisor/uids.py): a layer's root is then
        root's, mode 1777, so each run adds entries and none removes another's. Else (user-namespace
        mode: every run is the supervisor's uid on the host) it is the caller's, mode 0700."""
        self.cap_bytes = settings.session_cache_mb * MIB
        memory = host_memory_bytes if host_memory_bytes is not None else _host_memory_bytes()
        by_memory = int(memory * MEMORY_SHARE) // self.cap_bytes if self.cap_bytes else 0
        self.max_layers = max(1, min(settings.session_cache_sessions, by_memory))
        self.max_per_client = max(1, int(self.max_layers * CLIENT_SHARE))
        self.idle_s = settings.session_cache_idle_s
        self.mode = 0o1777 if shared_by_uids else 0o700
        self.layers: dict[str, Layer] = {}
        self.dropped_full = 0
        self.dropped_hostile = 0  # eviction failed or ran past its bound: the layer went whole
        self.unavailable = "" if self.cap_bytes else "off (PLAYGROUND_SESSION_CACHE_MB=0)"

    # -- a run's layer ----------------------------------------------------------------------

    def acquire(self, session_id: str | None, now: float,
                client: str | None = None) -> Layer | None:
        """The session's layer for a run that starts now (made on first use); None: no layer.
        client: whom the run counts against (client_limits.limit_key)."""
        if not session_id or self.unavailable:
            return None
        layer = self.layers.get(session_id)
        if layer is None:
            if not self._make_room(client):
                return None  # the layers that would have to go are in use: this run goes without
            try:
                fd = detached_tmpfs.create(self.cap_bytes, self._max_files(), None, self.mode)
            except OSError as exc:
                self.unavailable = f"unavailable on this host: {exc}"
                return None
            layer = self.layers[session_id] = Layer(session_id, fd, now, client)
        layer.running += 1
        layer.last_used = now
        return layer

    def is_full(self, layer: Layer) -> bool:
        """The run filled it: (almost) no room or no inode left."""
        try:
            used = detached_tmpfs.usage(layer.fd)
        except OSError:
            return False
        return used.free_bytes < min(FULL_MARGIN_BYTES, self.cap_bytes // 4) or used.free_files < 2

    def release(self, layer: Layer, now: float, filled: bool) -> None:
        """A run of the session ended; filled: it filled the layer, which goes (a fresh one
        comes with the next run). Otherwise a fuller-than-EVICT_AT layer loses its oldest
        entries, unless another run of the session still runs."""
        layer.running = max(0, layer.running - 1)
        layer.last_used = now
        if filled:
            self.dropped_full += 1
            self._drop(layer)
            log.info("session cache layer full: dropped", extra={"fields": {
                "event": "cache_layer_dropped"}})
        elif layer.running == 0:
            before = layer.evictions
            try:
                self._evict(layer)
            except Exception:  # whatever the run left makes the layer go, never the supervisor
                log.exception("session cache: evicting from a layer failed; it is dropped",
                              extra={"fields": {"event": "cache_layer_unevictable"}})
                self.dropped_hostile += 1
                self._drop(layer)
                return
            if layer.evictions > before:
                log.info("session cache entries evicted", extra={"fields": {
                    "event": "cache_eviction", "entries": layer.evictions - before}})

    # -- housekeeping -------------------------------------------------------------------------

    def expire(self, now: float) -> None:
        for layer in list(self.layers.values()):
            if layer.running == 0 and now - layer.last_used >= self.idle_s:
                self._drop(layer)

    def next_expiry(self) -> float | None:
        """When the next idle layer is due to go (the supervisor's wake-up time)."""
        times = [layer.last_used + self.idle_s for layer in self.layers.values()
                 if layer.running == 0]
        return min(times) if times else None

    def status(self) -> dict[str, object]:
        used = 0
        for layer in self.layers.values():
            with contextlib.suppress(OSError):
                used += detached_tmpfs.usage(layer.fd).used_bytes
        return {
            "state": self.unavailable or "on",
            "layers": len(self.layers),
            "used_mib": round(used / MIB, 1),
            "cap_mib_per_session": self.cap_bytes // MIB,
            "max_sessions": self.max_layers,
            "max_sessions_per_client": self.max_per_client,
            "dropped_full": self.dropped_full,
            "dropped_unevictable": self.dropped_hostile,
        }

    def close(self) -> None:
        for layer in list(self.layers.values()):
            self._drop(layer)

    # -- internals ----------------------------------------------------------------------------

    def _max_files(self) -> int:
        return max(256, self.cap_bytes // MIB * FILES_PER_MIB)

    def _drop(self, layer: Layer) -> None:
        """Forget it; the tmpfs is freed once the runs still holding it have ended."""
        if self.layers.get(layer.session_id) is layer:
            del self.layers[layer.session_id]
        with contextlib.suppress(OSError):
            os.close(layer.fd)
        layer.fd = -1

    def _make_room(self, client: str | None) -> bool:
        """Room for one more layer of this client: past its own share, its own least recent idle
        layer goes; past the total, the least recent idle layer among the clients that hold the
        most. False: no layer that would have to go is idle."""
        held = Counter(layer.client for layer in self.layers.values())
        if client is not None and held[client] >= self.max_per_client:
            return self._drop_least_recent(lambda layer: layer.client == client)
        if len(self.layers) < self.max_layers:
            return True
        idle = [layer for layer in self.layers.values() if layer.running == 0]
        if not idle:
            return False
        most = max(held[layer.client] for layer in idle)
        return self._drop_least_recent(lambda layer: held[layer.client] == most)

    def _drop_least_recent(self, among: Callable[[Layer], bool]) -> bool:
        idle = [layer for layer in self.layers.values() if layer.running == 0 and among(layer)]
        if not idle:
            return False
        self._drop(min(idle, key=lambda layer: layer.last_used))
        return True

    def _evict(self, layer: Layer) -> None:
        """Remove the oldest entries (by their mtime, which only the session itself can set)
        until the layer is at most EVICT_TO full. Raises whatever a hostile tree makes the
        kernel say (release drops the layer then); never recurses, bounded in steps."""
        if detached_tmpfs.usage(layer.fd).used_bytes <= self.cap_bytes * EVICT_AT:
            return
        budget = self._max_files() * REMOVAL_STEPS_PER_INODE
        root = os.open(".", tree_removal.DIR_FLAGS, dir_fd=layer.fd)
        try:
            entries = []
            with os.scandir(root) as listing:
                for entry in listing:
                    entries.append((entry.stat(follow_symlinks=False).st_mtime, entry.name))
            for _, name in sorted(entries):
                if detached_tmpfs.usage(layer.fd).used_bytes <= self.cap_bytes * EVICT_TO:
                    break
                budget -= tree_removal.remove(root, name, budget)
                layer.evictions += 1
        finally:
            os.close(root)


def _host_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 8 << 30
