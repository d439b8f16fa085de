"""The run's side of its session's cache layer (app/worker/cache_layer.py), in a fresh process each
(install changes JAX's process-wide cache): what it reads from where, what it writes, what it
skips. The end-to-end path through the sandbox is tests/runner/supervisor/test_session_cache.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.runner.platform import REPO_ROOT
from app.worker.cache_layer import CACHE_SUFFIX

SCRIPT = """
import json, sys
import jax, jax.numpy as jnp
from app.worker import cache_layer
how = cache_layer.install(sys.argv[1], sys.argv[2], int(sys.argv[3]))
f = jax.jit(lambda x: jnp.sin(x) * float(sys.argv[4]))
f(jnp.ones(5)).block_until_ready()
jax.clear_caches()  # the in-memory caches: the next call must come from the persistent one
f(jnp.ones(5)).block_until_ready()
print(json.dumps([how, cache_layer.counts()]))
"""


def run(layer: Path, shared: Path, max_entry: int, constant: float) -> tuple[str, dict[str, int]]:
    # As the runner sets them for runs (app/runner/platform.py base_env): XLA's own caches off,
    # else their path, under the cache dir, would be part of every key.
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO_ROOT),
           "JAX_COMPILATION_CACHE_DIR": str(shared),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1000000000",
           "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(layer), str(shared), str(max_entry),
                           str(constant)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=str(REPO_ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    how, counts = json.loads(done.stdout.strip().splitlines()[-1])
    return how, counts


def test_the_run_writes_its_layer_and_reads_it_back_before_the_shared_cache(
        tmp_path: Path) -> None:
    layer, shared = tmp_path / "layer", tmp_path / "shared"
    layer.mkdir()
    shared.mkdir()
    how, counts = run(layer, shared, 16 << 20, 1.5)
    assert how == "layered"
    assert counts["session_writes"] >= 1 and counts["session_hits"] >= 1
    assert any(p.name.endswith("-cache") for p in layer.iterdir())
    assert list(shared.iterdir()) == []  # nothing goes to the shared cache


def test_the_shared_cache_is_read_where_the_layer_has_no_entry(tmp_path: Path) -> None:
    layer, shared, other = tmp_path / "layer", tmp_path / "shared", tmp_path / "other"
    for path in (layer, shared, other):
        path.mkdir()
    run(shared, other, 16 << 20, 2.5)  # fills "shared" as if it were the warm-up's cache
    entries = sorted(p.name for p in shared.iterdir())
    shared.chmod(0o555)  # and read-only, as runs see it
    try:
        how, counts = run(layer, shared, 16 << 20, 2.5)
    finally:
        shared.chmod(0o755)
    assert how == "layered"
    assert counts["shared_hits"] >= 1 and counts.get("session_writes", 0) == 0
    assert sorted(p.name for p in shared.iterdir()) == entries


def test_entries_larger_than_a_run_may_write_are_skipped_quietly(tmp_path: Path) -> None:
    layer, shared = tmp_path / "layer", tmp_path / "shared"
    layer.mkdir()
    shared.mkdir()
    how, counts = run(layer, shared, 10, 3.5)  # every entry is larger than 10 bytes
    assert how == "layered"
    assert counts["skipped_writes"] >= 1 and counts["session_writes"] == 0
    assert list(layer.iterdir()) == []


RACE_SCRIPT = """
import os, sys
from pathlib import Path
from jax._src.lru_cache import LRUCache
from app.worker.cache_layer import LayeredCache
layer, second_uid = sys.argv[1], int(sys.argv[2])
cache = LayeredCache(LRUCache(layer, max_size=-1), None, 1 << 20)
pid = os.fork()  # this process never started a JAX backend: forking is safe, as in the zygote
if pid == 0:  # the second run
    status = 1
    try:
        os.setgid(second_uid)
        os.setuid(second_uid)
        # It looked before the first run's entry appeared: the race, made certain.
        Path.exists = lambda self, **_: False
        cache.put("key", b"the second run's program")
        status = 0
    except BaseException as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\\n")
        sys.stderr.flush()
    finally:
        os._exit(status)
_, wait_status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(wait_status))
"""


def test_two_runs_of_a_session_writing_one_entry_at_once_leave_it_whole() -> None:
    """Two runs of one session (the Lab's two stacks), each with its own uid in the layer's sticky
    directory, compile the same program at once: both find no entry, both write. The second
    writer must neither fail (JAX would print "Error writing persistent compilation cache
    entry" into the person's output) nor touch the first writer's entry."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("acting as two run uids needs root")
    first_uid, second_uid = 400_001, 400_002  # as app/runner/supervisor/uids.py hands them out
    root = Path(tempfile.mkdtemp(dir="/tmp"))  # reachable by other uids, unlike tmp_path
    try:
        root.chmod(0o755)
        layer = root / "layer"
        layer.mkdir()
        layer.chmod(0o1777)  # as app/runner/supervisor/session_cache.py makes a layer's root
        entry = layer / f"key{CACHE_SUFFIX}"
        entry.write_bytes(b"the first run's program")
        os.chown(entry, first_uid, first_uid)
        # A fresh process forks the second run: this one has JAX's threads.
        done = subprocess.run([sys.executable, "-c", RACE_SCRIPT, str(layer), str(second_uid)],
                              capture_output=True, text=True, timeout=120, cwd=str(REPO_ROOT),
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert done.returncode == 0, f"the second writer raised:\n{done.stderr[-3000:]}"
        assert entry.read_bytes() == b"the first run's program"
        assert sorted(p.name for p in layer.iterdir()) == [entry.name]  # no temporary left
    finally:
        shutil.rmtree(root, ignore_errors=True)


PUBLISHING_SCRIPT = """
import json, sys
import jax, jax.numpy as jnp
from jax._src import compilation_cache
from app.worker import cache_layer
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
installed = cache_layer.install_publishing(sys.argv[1])
jax.jit(lambda x: jnp.cos(x) + 3.0)(jnp.ones(4)).block_until_ready()
print(json.dumps([installed, type(compilation_cache._cache).__name__]))
"""


def test_the_warm_up_fills_the_shared_cache_with_whole_entries_only(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO_ROOT),
           "JAX_COMPILATION_CACHE_DIR": str(shared),
           "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none"}
    done = subprocess.run([sys.executable, "-c", PUBLISHING_SCRIPT, str(shared)],
                          capture_output=True, text=True, env=env, timeout=300, cwd=str(REPO_ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    installed, kind = json.loads(done.stdout.strip().splitlines()[-1])
    assert installed and kind == "PublishingCache"
    names = [p.name for p in shared.iterdir()]
    assert names and all(n.endswith(CACHE_SUFFIX) and not n.startswith(".") for n in names), names


def test_a_write_of_an_entry_already_there_counts_as_skipped_not_written(tmp_path: Path) -> None:
    """Two runs of one session compiling the same program: the second writer's put finds the
    entry there and stops; its run must not report a write that did not happen."""
    from jax._src.lru_cache import LRUCache

    from app.worker import cache_layer

    layer = tmp_path / "layer"
    layer.mkdir()
    cache = cache_layer.LayeredCache(LRUCache(str(layer), max_size=-1), None, 1 << 20)
    before = cache_layer.counts()
    cache.put("key", b"the first run's program")
    cache.put("key", b"the second run's program")
    after = cache_layer.counts()
    assert after["session_writes"] - before["session_writes"] == 1
    assert after["skipped_writes"] - before["skipped_writes"] == 1
    assert (layer / f"key{CACHE_SUFFIX}").read_bytes() == b"the first run's program"
