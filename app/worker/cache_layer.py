"""The run's side of its session's compilation-cache layer (app/runner/supervisor/session_cache.py).

The supervisor hands a run of a session a descriptor of that session's own writable layer. Before
any user code, the child moves it to a fixed descriptor number and calls `install`: JAX then looks
a compiled program up in the layer first, then in the shared read-only cache, and writes what it
compiles to the layer only. Entries larger than the run may write (RLIMIT_FSIZE) and writes into a
full layer are skipped without a warning: the supervisor sees a full layer and says so.

It uses JAX's cache object (`jax._src.compilation_cache._cache`); where that is not there (another
JAX version), the layer alone is the cache directory: reruns still hit, the shared cache is not
read. `counts()` says how many programs came from each place (the run's report carries it).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from jax._src.compilation_cache_interface import CacheInterface

CACHE_SUFFIX = "-cache"  # JAX's LRUCache names an entry <key>-cache (jax._src.lru_cache)

_counts = {"session_hits": 0, "shared_hits": 0, "session_writes": 0, "skipped_writes": 0}


def counts() -> dict[str, int]:
    return dict(_counts)


class LayeredCache:
    """get: the layer, then the shared cache; put: the layer only. JAX's CacheInterface."""

    def __init__(self, layer: Any, shared: Any | None, max_entry_bytes: int) -> None:
        self.layer = layer
        self.shared = shared
        self.max_entry_bytes = max_entry_bytes
        self._path = layer._path  # JAX logs it

    def get(self, key: str) -> bytes | None:
        value = self.layer.get(key)
        if value is not None:
            _counts["session_hits"] += 1
            return value
        if self.shared is None:
            return None
        with contextlib.suppress(OSError):
            value = self.shared.get(key)
        if value is not None:
            _counts["shared_hits"] += 1
        return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_entry_bytes:
            _counts["skipped_writes"] += 1
            return
        try:
            written = publish(Path(self.layer.path), f"{key}{CACHE_SUFFIX}", value)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise
            written = False
        # Already there (another run of the session wrote it first) counts as skipped too.
        _counts["session_writes" if written else "skipped_writes"] += 1


def publish(directory: Path, name: str, data: bytes) -> bool:
    """Put an entry in place whole, or not at all; False: it was there already.

    Runs of one session may run at once (the Transform Lab's two stacks), each with a uid of its
    own, and compile the same program: written in place (as JAX's LRUCache does), one run could
    read the other's half-written entry, or fail to open it for writing (not its file, in the
    layer's sticky directory) and print a warning into the person's output. A private temporary
    name linked into place is atomic, and a second writer of the same key just stops."""
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    try:
        temporary.write_bytes(data)
        os.link(temporary, directory / name)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return True


class PublishingCache:
    """JAX's cache in the shared directory, for the trusted warm-up, which fills it while runs
    read it: every entry appears whole (see publish), never half-written to a reader."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self._path = cache._path  # JAX logs it

    def get(self, key: str) -> bytes | None:
        return self.cache.get(key)

    def put(self, key: str, value: bytes) -> None:
        publish(Path(self.cache.path), f"{key}{CACHE_SUFFIX}", value)


def install_publishing(shared_dir: str) -> bool:
    """The trusted warm-up writes the shared cache through PublishingCache; False: this JAX has
    no such hook (it then writes as JAX does)."""
    try:
        from jax._src import compilation_cache
        from jax._src.lru_cache import LRUCache

        cache = PublishingCache(LRUCache(shared_dir, max_size=-1))
        compilation_cache.reset_cache()
        compilation_cache._cache = cast("CacheInterface", cache)  # the same methods
        compilation_cache._cache_initialized = True
    except (ImportError, AttributeError, TypeError, OSError):
        return False
    return True


def install(layer_path: str, shared_dir: str | None, max_entry_bytes: int) -> str:
    """Make JAX read the layer then the shared cache and write to the layer; how it was done
    ("layered", "layer only", or "none": this JAX has neither way, the run goes without)."""
    import jax

    try:
        # Every program this run compiles goes to its own layer, however fast it compiled.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    except (AttributeError, KeyError, ValueError):
        return "none"
    try:
        from jax._src import compilation_cache
        from jax._src.lru_cache import LRUCache

        layer = LRUCache(layer_path, max_size=-1)
        shared = LRUCache(shared_dir, max_size=-1) if shared_dir else None
        compilation_cache.reset_cache()
        layered = LayeredCache(layer, shared, max_entry_bytes)
        compilation_cache._cache = cast("CacheInterface", layered)  # the same methods
        compilation_cache._cache_initialized = True
        return "layered"
    except (ImportError, AttributeError, TypeError, OSError):
        # Another JAX: the layer alone (reruns in the session hit; the shared cache is unread).
        jax.config.update("jax_compilation_cache_dir", layer_path)
        return "layer only"
