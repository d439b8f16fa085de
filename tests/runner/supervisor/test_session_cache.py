"""Per-session compilation-cache layers, end to end through the real sandbox, and where runs run.

One Runner for the module, with a 2 MiB layer per session (small enough that a run can fill it in
a moment, big enough for the compiled programs below). Each test uses session ids of its own.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import runtimes
from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from app.runner.supervisor import detached_tmpfs, session_cache, tree_removal
from app.runner.supervisor.session_cache import Layer, SessionLayers
from tests.runner.supervisor import hostile_trees, tree_builder

CAP_MB = 2
LAYER = runner_platform.LAYER_PATH.format(fd=runner_platform.layer_fd(Settings()))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = Settings(
        max_concurrent=2,
        session_cache_mb=CAP_MB,
        state_dir=str(tmp_path_factory.mktemp("session-cache")),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    shared = Runner(config)
    shared.start()
    yield shared
    shared.close()


def jitted(tag: str) -> str:
    """A jitted function no other run compiled: its constant is new (not in the shared cache)."""
    k = uuid.uuid4().int % 100_000 + 3
    return (
        "import jax, jax.numpy as jnp\n"
        f"f = jax.jit(lambda x: jnp.tanh(x) * {k} + jnp.sin(x).sum())\n"
        f"print('{tag}', float(f(jnp.ones(7)).sum()))\n"
    )


def run(runner: Runner, code: str, session: str | None, **kwargs: object) -> RunResult:
    return runner.run(RunRequest(code=code, session_id=session, timeout_s=25, **kwargs))


def session() -> str:
    return uuid.uuid4().hex


def test_a_sessions_rerun_loads_what_its_first_run_compiled(runner: Runner) -> None:
    code, a = jitted("a"), session()
    first = run(runner, code, a)
    assert first.status == "ok", first
    assert first.compile_cache.get("session_writes", 0) >= 1  # it compiled f into its layer
    assert first.compile_cache.get("session_hits", 0) == 0
    again = run(runner, code, a)
    assert again.status == "ok", again
    assert again.stdout == first.stdout
    # Everything it needed came from the layer: nothing was compiled and written again.
    assert again.compile_cache.get("session_hits", 0) >= first.compile_cache["session_writes"]
    assert again.compile_cache.get("session_writes", 0) == 0


def test_another_session_never_sees_the_first_sessions_entries(runner: Runner) -> None:
    code, a, b = jitted("ab"), session(), session()
    mark = f"open('{LAYER}/planted-by-a', 'w').write('x')\n"
    assert run(runner, code + mark, a).status == "ok"
    look = f"import os\nprint(sorted(n for n in os.listdir('{LAYER}') if 'planted' in n))\n"
    other = run(runner, code + look, b)
    assert other.status == "ok", other
    assert other.stdout.splitlines()[-1] == "[]"  # A's file is not in B's layer
    assert other.compile_cache.get("session_hits", 0) == 0  # B compiled f itself
    assert other.compile_cache.get("session_writes", 0) >= 1
    mine = run(runner, look, a)
    assert mine.stdout.strip() == "['planted-by-a']"  # ... while A still has it


def test_a_run_that_fills_its_layer_is_stopped_and_hurts_no_other_session(
        runner: Runner) -> None:
    a, filler = session(), session()
    code = jitted("kept")
    assert run(runner, code, a).status == "ok"
    fill = (
        "import os, time\n"
        "try:\n"
        "    for i in range(100):\n"
        f"        with open('{LAYER}/junk-%d' % i, 'wb') as f:\n"
        "            f.write(os.urandom(256 * 1024))\n"
        "except OSError as exc:\n"
        "    print('refused:', exc.strerror, flush=True)\n"
        "time.sleep(20)\n"
    )
    full = run(runner, fill, filler)
    assert full.status == "output_limit", full
    assert "filled its session's compilation cache (2 MiB)" in full.message
    assert full.stdout == "refused: No space left on device\n"  # the kernel held the cap
    # The other session's layer is untouched: its rerun still loads what it compiled.
    kept = run(runner, code, a)
    assert kept.status == "ok", kept
    assert kept.compile_cache.get("session_hits", 0) >= 1
    # The filler's next run starts with a fresh, empty layer.
    fresh = run(runner, f"import os\nprint(len(os.listdir('{LAYER}')))\n", filler)
    assert fresh.status == "ok", fresh
    assert fresh.stdout == "0\n"
    assert runner.status()["session_cache"]["dropped_full"] >= 1


def test_the_shared_cache_stays_read_only_to_every_run(runner: Runner) -> None:
    default = runtimes.default(runner.settings)
    shared = runner_platform.runtime_cache_dir(runner.settings, default.id if default else "")
    before = sorted(p.name for p in shared.iterdir())
    probe = (
        "import jax\n"
        "try:\n"
        "    open(jax.config.jax_compilation_cache_dir + '/poison-cache', 'w')\n"
        "    print('wrote')\n"
        "except OSError as exc:\n"
        "    print('refused')\n"
    )
    for who in (session(), None):
        result = run(runner, jitted("ro") + probe, who)
        assert result.status == "ok", result
        assert result.stdout.splitlines()[-1] == "refused"
    assert sorted(p.name for p in shared.iterdir()) == before


def test_a_run_without_a_session_gets_no_layer(runner: Runner) -> None:
    code = jitted("none") + f"import os\nprint(os.path.exists('{LAYER}'))\n"
    result = run(runner, code, None)
    assert result.status == "ok", result
    assert result.stdout.splitlines()[-1] == "False"
    assert result.compile_cache == {}


def test_a_run_that_asks_for_the_cpu_runs_in_a_cpu_child_and_says_so(runner: Runner) -> None:
    code = "import jax\nprint(jax.config.jax_platforms, jax.default_backend(), jax.device_count())"
    on_cpu = run(runner, code, session(), target="cpu")
    assert on_cpu.status == "ok", on_cpu
    assert on_cpu.stdout == f"cpu cpu {runner.settings.cpu_devices}\n"
    assert on_cpu.target == "cpu" and on_cpu.platform == "cpu"
    assert on_cpu.notes == []  # a CPU host: nothing to explain
    default = run(runner, code, session())
    assert default.target == "accelerator" and default.platform == "cpu"
    kinds = runner.status()["kinds"]
    assert "cpu" in kinds and "accelerator" in kinds  # a pool of each kind is kept


def test_the_status_shows_the_layers_and_the_policy(runner: Runner) -> None:
    info = runner.status()
    cache = info["session_cache"]
    assert cache["state"] == "on" and cache["cap_mib_per_session"] == CAP_MB
    assert cache["layers"] >= 1
    assert info["policy"]["runs at once"] == "2"
    assert info["limits"]["cpu_limit_s"] == info["limits"]["cpu_s"] * info["limits"][
        "cores_per_run"]
    assert set(info["child_prepare_phases_ms_p50"]) >= {"fork", "sandbox", "backend"}


def test_nothing_of_the_layers_is_on_the_host_file_system(runner: Runner) -> None:
    """The layers are tmpfs mounted nowhere: not under the state dir, not in the mount table."""
    assert run(runner, jitted("host"), session()).status == "ok"
    state = Path(runner.settings.state_dir)
    found = [name for _dir, _subdirs, files in os.walk(state) for name in files  # races with
             if "planted" in name or "junk" in name]  # run dirs going away: os.walk skips them
    assert not found
    mounts = Path("/proc/self/mountinfo").read_text()
    assert "session" not in mounts and str(state) not in mounts


def test_a_shared_cache_under_tmp_is_bound_back_read_only_under_the_runs_fresh_tmp(
        tmp_path: Path) -> None:
    """Runs get a fresh /tmp; a cache dir under /tmp (outside the state dir, as in these tests)
    must be bound back read-only, or runs never see the shared cache at all."""
    from app.runner.sandbox import mounts

    cache = Path("/tmp") / f"cache-{uuid.uuid4().hex}"
    cache.mkdir()
    try:
        plan = mounts.plan(tmp_path / "scratch", 16, 65534, 65534, tmp_path / "state", cache)
    finally:
        cache.rmdir()
    assert cache in plan.kept_read_only


# -- the supervisor's bookkeeping (app/runner/supervisor/session_cache.py), on real detached tmpfs


def layers(**overrides: object) -> SessionLayers:
    settings = Settings(**{"session_cache_mb": 1, "session_cache_sessions": 2,
                           "session_cache_idle_s": 60.0, **overrides})  # type: ignore[arg-type]
    return SessionLayers(settings, shared_by_uids=False)


def put(layer: Layer, name: str, size: int, age_s: float = 0.0) -> None:
    path = f"/proc/self/fd/{layer.fd}/{name}"
    with open(path, "wb") as f:
        f.write(b"\x01" * size)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))


def names(layer: Layer) -> list[str]:
    return sorted(os.listdir(f"/proc/self/fd/{layer.fd}"))


def test_a_layer_is_a_tmpfs_of_its_own_per_session_and_none_without_a_session() -> None:
    held = layers()
    try:
        a, b = held.acquire("a", 0.0), held.acquire("b", 0.0)
        assert a is not None and b is not None
        put(a, "entry-cache", 1000)
        assert names(a) == ["entry-cache"] and names(b) == []
        assert held.acquire(None, 0.0) is None and held.acquire("", 0.0) is None
        assert held.acquire("a", 1.0) is a and a.running == 2
    finally:
        held.close()


def test_the_kernel_holds_the_cap_and_a_filled_layer_is_dropped() -> None:
    held = layers()
    try:
        layer = held.acquire("a", 0.0)
        assert layer is not None
        with pytest.raises(OSError, match="No space left"):
            put(layer, "big", 2 << 20)
        assert held.is_full(layer)
        held.release(layer, 1.0, filled=True)
        fresh = held.acquire("a", 2.0)
        assert fresh is not None and fresh is not layer and names(fresh) == []
    finally:
        held.close()


def test_a_fuller_layer_loses_its_oldest_entries_between_runs(tmp_path: Path) -> None:
    held = layers()
    victim = tmp_path / "host-file"
    victim.write_text("must survive")
    try:
        layer = held.acquire("a", 0.0)
        assert layer is not None
        os.symlink(victim, f"/proc/self/fd/{layer.fd}/link-to-host")
        os.utime(f"/proc/self/fd/{layer.fd}/link-to-host", (1.0, 1.0), follow_symlinks=False)
        os.mkdir(f"/proc/self/fd/{layer.fd}/autotune")
        put(layer, "autotune/inner", 100_000)
        os.utime(f"/proc/self/fd/{layer.fd}/autotune", (2.0, 2.0))
        for i in range(8):  # 800 kB of 1 MiB: past three-quarters
            put(layer, f"entry-{i}", 100_000, age_s=100 - i)
        held.release(layer, 1.0, filled=False)
        left = names(layer)
        # The oldest went first (the link, the directory, the oldest entries), down to half.
        assert "link-to-host" not in left and "autotune" not in left
        assert "entry-0" not in left and "entry-7" in left
        assert victim.read_text() == "must survive"  # a link is unlinked, never followed
        assert layer.evictions >= 3
    finally:
        held.close()


def test_idle_layers_expire_and_the_least_recent_goes_when_too_many() -> None:
    held = layers()
    try:
        a = held.acquire("a", 0.0)
        b = held.acquire("b", 5.0)
        assert a is not None and b is not None
        held.release(a, 1.0, filled=False)
        held.release(b, 5.0, filled=False)
        c = held.acquire("c", 10.0)  # a third session: "a" was used least recently
        assert c is not None and set(held.layers) == {"b", "c"}
        assert held.next_expiry() == 65.0  # "b", idle since 5.0, goes at 5 + 60
        held.expire(65.0)
        assert set(held.layers) == {"c"}  # "c" runs: never expired while it runs
        held.expire(1000.0)
        assert set(held.layers) == {"c"}
        assert held.acquire("d", 11.0) is not None
        assert held.acquire("e", 12.0) is None  # both layers are in use: this run goes without
    finally:
        held.close()


def test_without_root_the_tmpfs_is_made_in_a_user_namespace_helper() -> None:
    """As the container's non-root uid: the direct way is refused, the helper's way works, and
    the files on it are this uid's own (as a run's are, through its user namespace)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another uid")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked copy of this (single-threaded, JAX-free) test process
        report = "error"
        try:
            os.setgroups([])
            os.setresgid(10001, 10001, 10001)
            os.setresuid(10001, 10001, 10001)
            fd = detached_tmpfs.create(1 << 20, 64, None)
            with open(f"/proc/self/fd/{fd}/entry", "wb") as f:
                f.write(b"x" * 1000)
            info = os.stat(f"/proc/self/fd/{fd}/entry")
            report = f"{info.st_uid} {detached_tmpfs.usage(fd).used_bytes >= 1000}"
        except OSError as exc:
            report = f"refused {exc}"
        finally:
            os.write(write, report.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        report = f.read()
    os.waitpid(pid, 0)
    if report.startswith("refused"):
        pytest.skip(f"no unprivileged user namespaces here: {report}")
    assert report == "10001 True"


# -- hostile layers: what a run leaves behind never raises out of the bookkeeping -------------


def victim_and_attacker(held: SessionLayers) -> tuple[Layer, Layer]:
    """A victim session's layer with one entry, idle; an attacking session's layer, running."""
    victim = held.acquire("victim", 0.0)
    assert victim is not None
    put(victim, "entry-cache", 1000)
    held.release(victim, 0.5, filled=False)
    layer = held.acquire("attacker", 1.0)
    assert layer is not None
    return victim, layer


def open_root(layer: Layer) -> int:
    return os.open(f"/proc/self/fd/{layer.fd}", os.O_RDONLY | os.O_DIRECTORY)


def test_a_1500_deep_tree_in_a_layer_past_the_mark_is_evicted_without_raising() -> None:
    """The reported attack on the bookkeeping alone: 1,500 nested directories and 4 x 13 MiB
    in a 64 MiB layer (81 %). shutil.rmtree recursed per level and raised RecursionError."""
    held = layers(session_cache_mb=64)
    try:
        victim, layer = victim_and_attacker(held)
        root = open_root(layer)
        try:
            tree_builder.build(root, [["chain", b"d".hex(), 1500]])
            os.utime("d", (1.0, 1.0), dir_fd=root)
        finally:
            os.close(root)
        for i in range(4):
            put(layer, f"blob-{i}", 13 << 20)
        assert not held.is_full(layer)
        held.release(layer, 2.0, filled=False)
        assert "d" not in names(layer)  # the deep tree went first (the oldest entry)
        assert detached_tmpfs.usage(layer.fd).used_bytes <= (64 << 20) * session_cache.EVICT_TO
        assert names(victim) == ["entry-cache"]
    finally:
        held.close()


def test_tree_removal_is_bounded_in_steps() -> None:
    held = layers(session_cache_mb=8)
    try:
        layer = held.acquire("a", 0.0)
        assert layer is not None
        root = open_root(layer)
        try:
            tree_builder.build(root, [["chain", b"d".hex(), 300]])
            with pytest.raises(tree_removal.BudgetExhausted):
                tree_removal.remove(root, "d", budget=50)
            assert tree_removal.remove(root, sorted(os.listdir(root))[0], budget=10_000) > 300
            assert os.listdir(root) == []  # the staging directory went too
        finally:
            os.close(root)
    finally:
        held.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=hostile_trees.trees(), share=st.sampled_from([0.5, 0.8, 0.95, 1.5]))
def test_no_tree_a_run_leaves_makes_the_layers_raise(tree: list[object], share: float) -> None:
    """Fuzz the supervisor's side: build a hostile tree, pad past the eviction mark (or fill
    it), then end the run, expire, close. Nothing raises; the layer is evicted down to the
    target or dropped whole; another session's layer is untouched."""
    cap = 4 << 20
    held = layers(session_cache_mb=4, session_cache_sessions=4)
    try:
        victim, layer = victim_and_attacker(held)
        root = open_root(layer)
        try:
            tree_builder.build(root, tree)  # type: ignore[arg-type]
            tree_builder.age_everything(root)
            with contextlib.suppress(OSError):
                tree_builder.fill_to(root, share, cap)
        finally:
            os.close(root)
        held.release(layer, 2.0, filled=held.is_full(layer))
        if held.layers.get("attacker") is layer:
            assert detached_tmpfs.usage(layer.fd).used_bytes <= cap * session_cache.EVICT_AT
        assert names(victim) == ["entry-cache"]
        held.expire(10_000.0)
        assert not held.layers
    finally:
        held.close()


# -- one client cannot take every layer ------------------------------------------------------


def test_a_client_making_many_sessions_recycles_its_own_layers_never_anothers() -> None:
    held = layers(session_cache_sessions=8)
    try:
        assert held.max_per_client == 2
        victim = held.acquire("victim-session", 0.0, client="client:victim")
        assert victim is not None
        put(victim, "entry-cache", 1000)
        held.release(victim, 0.5, filled=False)
        for i in range(100):  # 100 new sessions of one client, one after another
            layer = held.acquire(f"hostile-{i}", 1.0 + i, client="client:hostile")
            assert layer is not None
            held.release(layer, 1.5 + i, filled=False)
        assert held.layers["victim-session"] is victim and names(victim) == ["entry-cache"]
        mine = [s for s, layer in held.layers.items() if layer.client == "client:hostile"]
        assert sorted(mine) == ["hostile-98", "hostile-99"]  # its own least recent went
        # While both of its layers run, a third session of that client goes without one.
        a = held.acquire("hostile-98", 200.0, client="client:hostile")
        b = held.acquire("hostile-99", 200.0, client="client:hostile")
        assert a is not None and b is not None
        assert held.acquire("hostile-new", 201.0, client="client:hostile") is None
        assert held.layers["victim-session"] is victim
    finally:
        held.close()


def test_the_layers_caps_together_stay_within_a_share_of_the_hosts_memory() -> None:
    settings_ = Settings(session_cache_mb=64, session_cache_sessions=32)
    # A host of 1.5 GiB: an eighth of it is 192 MiB, three 64 MiB layers.
    held = SessionLayers(settings_, shared_by_uids=False, host_memory_bytes=1536 << 20)
    try:
        assert held.max_layers == 3 and held.status()["max_sessions"] == 3
        for i in range(3):
            layer = held.acquire(f"s{i}", float(i), client=f"client:{i}")
            assert layer is not None
            held.release(layer, float(i), filled=False)
        # A fourth client: the least recent layer among those holding the most goes.
        assert held.acquire("s3", 10.0, client="client:3") is not None
        assert sorted(held.layers) == ["s1", "s2", "s3"]
    finally:
        held.close()


def test_the_runs_folder_of_a_dead_supervisor_goes_whatever_a_run_left_in_it(
        tmp_path: Path) -> None:
    """Where no mount namespace gives a run its tmpfs, it writes its scratch on the host: a deep
    tree there once made the supervisor's cleanup (shutil.rmtree) raise RecursionError, at
    every start while the dead supervisor's folder was still there."""
    from app.runner.supervisor import bootstrap

    dead = tmp_path / "runs-999999999"
    scratch = dead / "run-1"
    scratch.mkdir(parents=True)
    root = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
    try:
        tree_builder.build(root, [["chain", b"d".hex(), 3000],
                                  ["link", b"out".hex(), str(tmp_path)],
                                  ["dir", b"locked".hex(), 0, [["file", b"f".hex(), 10, 0]]]])
    finally:
        os.close(root)
    keep = tmp_path / "keep.txt"
    keep.write_text("the link's target stays")
    bootstrap._remove_stale_run_dirs(Settings(state_dir=str(tmp_path)))
    assert not dead.exists()
    assert keep.read_text() == "the link's target stays"


OTHER = [r for r in runtimes.installed(Settings())][1:2]


@pytest.mark.skipif(not OTHER, reason="one JAX runtime installed (make setup installs more)")
def test_a_sessions_layer_never_crosses_runtimes(runner: Runner) -> None:
    who, other = session(), OTHER[0].id
    mark = f"open('{LAYER}/planted-on-default', 'w').write('x')\n"
    assert run(runner, jitted("d") + mark, who).status == "ok"
    look = f"import os\nprint(sorted(n for n in os.listdir('{LAYER}') if 'planted' in n))\n"
    there = run(runner, look, who, jax=other)
    assert there.status == "ok", there
    assert there.runtime is not None and there.runtime.jax == OTHER[0].jax
    assert there.stdout == "[]\n"
    back = run(runner, look, who)
    assert back.stdout == "['planted-on-default']\n"
