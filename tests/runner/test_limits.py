"""Limits, admission, recovery and cleanup, on a private Runner with small limits."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from app import runtimes
from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner

SLEEP = "import time\nprint('started', flush=True)\ntime.sleep({s})\nprint('done')"


def _wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-state")


@pytest.fixture(scope="module")
def small(state: Path) -> Iterator[Runner]:
    """One run at a time, one queued, 4 KiB of output, 4 s at most: every admission path."""
    config = Settings(
        max_concurrent=1,
        queue_size=1,
        max_timeout_s=4.0,
        output_bytes=4096,
        result_bytes=64 * 1024,
        state_dir=str(state),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    runner = Runner(config)
    runner.start()
    yield runner
    runner.close()


def _queue_updates(updates: list) -> Callable[[str, Any], None]:
    """An on_update that keeps the queue and start updates, not the streamed output."""

    def keep(kind: str, value: Any) -> None:
        if kind != "output":
            updates.append((kind, value))

    return keep


def _background(runner: Runner, code: str, updates: list | None = None):  # type: ignore[no-untyped-def]
    box: dict[str, RunResult] = {}

    def go() -> None:
        callback = _queue_updates(updates) if updates is not None else None
        box["result"] = runner.run(RunRequest(code=code, timeout_s=20), callback)

    thread = threading.Thread(target=go)
    thread.start()
    return thread, box


def test_output_flood_is_cut_with_a_mark(small: Runner) -> None:
    result = small.run(RunRequest(code="while True:\n    print('x' * 100)\n"))
    assert result.status == "output_limit"
    assert result.truncated is True
    assert "output truncated" in result.stdout
    assert len(result.stdout.encode()) < 4096 + 200


def test_output_just_under_the_cap_is_complete(small: Runner) -> None:
    result = small.run(RunRequest(code="print('y' * 3000)"))
    assert result.status == "ok"
    assert result.stdout == "y" * 3000 + "\n"
    assert result.truncated is False


def test_result_larger_than_its_cap_is_output_limit(small: Runner) -> None:
    # The value repr is cut by the worker; flood the result pipe itself.
    flood = "import os\nfor _ in range(100):\n    os.write(3, b'z' * 4096)"
    result = small.run(RunRequest(code=flood))
    assert result.status == "output_limit"
    assert "result" in result.message


def test_queue_positions_then_busy_when_the_queue_is_full(small: Runner) -> None:
    first_updates: list = []
    second_updates: list = []
    first, first_box = _background(small, SLEEP.format(s=1.5), first_updates)
    assert _wait_for(lambda: ("running", None) in first_updates)
    second, second_box = _background(small, "print('second')", second_updates)
    assert _wait_for(lambda: ("queued", 1) in second_updates)
    third = small.run(RunRequest(code="print('third')"))
    assert third.status == "busy"
    assert "busy" in third.message
    first.join()
    second.join()
    assert first_box["result"].status == "ok"
    assert second_box["result"].status == "ok"
    assert second_box["result"].stdout == "second\n"
    assert second_box["result"].queue_s > 0.5
    assert second_updates[-1] == ("running", None)


@pytest.mark.parametrize("fair", [True, False], ids=["fair", "first-come-first-served"])
def test_a_quiet_session_goes_ahead_of_a_busy_sessions_queued_runs(state: Path,
                                                                   fair: bool) -> None:
    config = Settings(max_concurrent=1, queue_size=8, state_dir=str(state / f"fair-{fair}"),
                      fair_queue=fair,
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    finished: list[str] = []
    updates: dict[str, list] = {}

    def submit(name: str, session: str, code: str) -> threading.Thread:
        updates[name] = []

        def go() -> None:
            request = RunRequest(code=code, timeout_s=20, session_id=session)
            result = runner.run(request, _queue_updates(updates[name]))
            assert result.status == "ok", result
            finished.append(name)

        thread = threading.Thread(target=go)
        thread.start()
        return thread

    try:
        runner.start()
        threads = [submit("busy-1", "busy", SLEEP.format(s=1.5))]
        assert _wait_for(lambda: ("running", None) in updates["busy-1"])
        threads += [submit(f"busy-{n}", "busy", "print('more')") for n in (2, 3)]
        assert _wait_for(lambda: ("queued", 2) in updates["busy-3"])
        threads.append(submit("quiet", "quiet", "print('one run')"))
        if fair:
            assert _wait_for(lambda: ("queued", 1) in updates["quiet"])
            assert _wait_for(lambda: ("queued", 3) in updates["busy-3"])  # moved back one place
        else:
            assert _wait_for(lambda: ("queued", 3) in updates["quiet"])
        for thread in threads:
            thread.join()
        expected = ["busy-1", "quiet", "busy-2", "busy-3"] if fair else \
            ["busy-1", "busy-2", "busy-3", "quiet"]
        assert finished == expected
    finally:
        runner.close()


def test_a_burst_grows_the_pool_so_the_next_waits_for_no_preparation_then_it_shrinks(
        state: Path) -> None:
    config = Settings(max_concurrent=2, prefork=1, state_dir=str(state / "burst"),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    try:
        runner.start()
        assert _wait_for(lambda: runner.status()["ready"] == 1)
        # Two at once with one child ready: the second waits for a child still preparing,
        # and the pool sizes itself from that burst: two children wait afterwards.
        threads = [_background(runner, "print('burst')") for _ in range(2)]
        for thread, _box in threads:
            thread.join()
        assert [box["result"].status for _t, box in threads] == ["ok", "ok"]
        waited = runner.status()["runs_waited_for_preparation"]
        assert waited >= 1
        assert _wait_for(lambda: runner.status()["ready"] == 2, 20)
        # The same burst again finds a ready child for each run.
        again = [_background(runner, "print('again')") for _ in range(2)]
        for thread, _box in again:
            thread.join()
        assert [box["result"].status for _t, box in again] == ["ok", "ok"]
        assert runner.status()["runs_waited_for_preparation"] == waited
        # A long run outlasting the burst's window: the supervisor must sleep on its selector
        # meanwhile (a timer for the spare that cannot fire yet would spin it at 100%).
        updates: list = []
        thread, box = _background(runner, SLEEP.format(s=9), updates)
        assert _wait_for(lambda: ("running", None) in updates)
        supervisor = psutil.Process(runner.status()["supervisor_pid"])
        time.sleep(5.5)
        before = sum(supervisor.cpu_times()[:2])
        time.sleep(2.0)
        used = sum(supervisor.cpu_times()[:2]) - before
        assert used < 0.25, f"the supervisor used {used:.2f} s of CPU in 2 s while waiting"
        thread.join()
        assert box["result"].status == "ok"
        # Once the burst is out of the window, the pool is back to `prefork`.
        assert _wait_for(lambda: runner.status()["idle"] == 1, 40)
    finally:
        runner.close()


def test_killed_zygote_is_restarted_and_the_next_run_works(small: Runner) -> None:
    assert _wait_for(lambda: small.status()["ready"] >= 1)
    before = small.status()
    os.kill(before["zygote_pid"], signal.SIGKILL)
    # Runs in flight die with their zygote (see the next test); the next one must work.
    assert _wait_for(lambda: small.status()["zygote_pid"] != before["zygote_pid"])
    result = small.run(RunRequest(code="print('after zygote death')"))
    assert result.status == "ok", result
    after = small.status()
    assert after["zygote_pid"] != before["zygote_pid"]
    assert after["zygote_restarts"] == before["zygote_restarts"] + 1
    assert _wait_for(lambda: small.status()["idle"] >= 1)  # the pool healed


def test_run_in_flight_when_the_zygote_dies_is_crashed(small: Runner) -> None:
    updates: list = []
    thread, box = _background(small, SLEEP.format(s=10), updates)
    assert _wait_for(lambda: ("running", None) in updates)
    time.sleep(0.3)
    os.kill(small.status()["zygote_pid"], signal.SIGKILL)
    thread.join(30)
    assert box["result"].status == "crashed"
    assert small.run(RunRequest(code="print(1)")).status == "ok"


def test_killed_supervisor_fails_runs_in_flight_and_recovers(small: Runner) -> None:
    updates: list = []
    thread, box = _background(small, SLEEP.format(s=10), updates)
    assert _wait_for(lambda: ("running", None) in updates)
    old_pid = small.supervisor_pid()
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    thread.join(30)
    assert box["result"].status == "crashed"
    result = small.run(RunRequest(code="print('recovered')"))
    assert result.status == "ok", result
    assert result.stdout == "recovered\n"
    assert small.supervisor_pid() != old_pid
    # The old supervisor's zygote and children died with it (parent-death signals).
    assert _wait_for(lambda: not _processes_mentioning(str(small.settings.state_dir), old_pid))


def _processes_mentioning(marker: str, supervisor_pid: int | None = None) -> list[psutil.Process]:
    """Processes of our runner: the zygote's argv holds the settings (our unique state dir)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline and proc.pid != os.getpid():
            found.append(proc)
    if supervisor_pid is not None:
        with_parent = []
        for proc in found:
            try:
                ancestors = {p.pid for p in proc.parents()}
            except psutil.Error:
                continue
            if supervisor_pid in ancestors or proc.pid == supervisor_pid:
                with_parent.append(proc)
        return with_parent
    return found


def test_nothing_is_left_after_close(state: Path) -> None:
    """Own runner: runs that try to outlive themselves, then close; no process, no scratch."""
    config = Settings(max_concurrent=2, state_dir=str(state / "cleanup"),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(120)\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )
    assert runner.run(RunRequest(code=daemon)).status == "ok"
    updates: list = []
    thread, _box = _background(runner, SLEEP.format(s=30), updates)
    assert _wait_for(lambda: ("running", None) in updates)
    info = runner.status()
    pids = [info["supervisor_pid"], info["zygote_pid"], *info["child_pids"]]
    runner.close()
    thread.join(30)
    assert _wait_for(lambda: not any(psutil.pid_exists(p) and _alive(p) for p in pids), 10)
    assert not _processes_mentioning(str(state / "cleanup"))
    leftovers = list((state / "cleanup").glob("runs-*"))
    assert leftovers == []


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_missing_required_layer_fails_closed(state: Path) -> None:
    runner = Runner(Settings(require_sandbox="no_such_layer", state_dir=str(state / "closed")))
    try:
        result = runner.run(RunRequest(code="print('must not run')"))
    finally:
        runner.close()
    assert result.status == "rejected"
    assert "no_such_layer" in result.message
    assert result.stdout == ""


def default_runtime_cache(settings: Settings) -> Path:
    """Where the default runtime's programs go: its own folder of the shared cache."""
    default = runtimes.default(settings)
    return runner_platform.runtime_cache_dir(settings, default.id if default else "")


def test_fresh_cache_is_filled_by_the_warm_up_and_runs_queue_behind_it(state: Path) -> None:
    settings = Settings(state_dir=str(state / "fresh"),
                        compile_cache_dir=str(state / "fresh-cache"))
    cache = default_runtime_cache(settings)
    runner = Runner(settings)
    try:
        # No start(): the first run is sent at once and waits behind the trusted warm-up.
        result = runner.run(RunRequest(code="import jax.numpy as jnp\nprint(jnp.ones(2).sum())"))
        assert result.status == "ok", result
        assert result.stdout == "2.0\n"
        warm = runner.status()["warm"]
        assert warm["done"] and warm["ok"] and warm["status"] == "ok"
        names = [p.name for p in cache.iterdir()]
        assert any(name.startswith("warm-") for name in names)  # the next start skips it
        assert sum(name.startswith("jit_") for name in names) >= 5
    finally:
        runner.close()
    again = Runner(settings)
    try:
        again.start()
        assert again.status()["warm"]["status"] == "cached"
    finally:
        again.close()


def test_requested_timeout_is_capped_by_the_configured_maximum(small: Runner) -> None:
    result = small.run(RunRequest(code="import time\ntime.sleep(120)", timeout_s=10_000.0))
    assert result.status == "timeout"
    assert "longer than 4 s" in result.message


def test_pool_goes_away_when_the_callers_process_is_killed(state: Path) -> None:
    """SIGKILL of the app's process: the supervisor sees EOF on its stdin and ends the pool."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys, time\n"
        "from app.config import Settings\n"
        "from app.protocol import RunRequest\n"
        "from app.runner.api.runner import Runner\n"
        "r = Runner(Settings(state_dir=sys.argv[1], compile_cache_dir=sys.argv[2]))\n"
        "assert r.run(RunRequest(code='print(1)')).status == 'ok'\n"
        "s = r.status()\n"
        "print(json.dumps([s['supervisor_pid'], s['zygote_pid'], *s['child_pids']]), flush=True)\n"
        "time.sleep(600)\n"
    )
    caller = subprocess.Popen(
        [sys.executable, "-c", script, str(state / "orphan"),
         str(runner_platform.compile_cache_dir(Settings()))],
        stdout=subprocess.PIPE, text=True, cwd=str(runner_platform.REPO_ROOT),
    )
    try:
        assert caller.stdout is not None
        pids = json.loads(caller.stdout.readline())
        assert len(pids) >= 3 and all(_alive(p) for p in pids)
    finally:
        caller.kill()
        caller.wait()
    assert _wait_for(lambda: not any(_alive(p) for p in pids), 15), pids
    assert list((state / "orphan").glob("runs-*")) == []


def test_cpu_time_limit_ends_a_busy_loop_as_timeout(state: Path) -> None:
    config = Settings(cpu_s=1.0, timeout_s=60.0, max_timeout_s=60.0,
                      state_dir=str(state / "cpu"),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    try:
        spin = "print('spinning', flush=True)\nwhile True:\n    pass\n"
        result = runner.run(RunRequest(code=spin))
    finally:
        runner.close()
    assert result.status == "timeout", result
    assert "CPU time" in result.message
    assert result.stdout == "spinning\n"


def test_the_cpu_time_limit_is_per_core_of_the_runs_share(state: Path) -> None:
    """One run at a time on this host's 2 cores: each run gets both (cgroup quota), and the
    CPU-time limit is cpu_s per core. An ordinary multi-threaded run (the timing bench's jitted
    workload) may use more CPU seconds than cpu_s, which the limit once killed; a busy loop is
    still stopped on CPU time."""
    config = Settings(cpu_s=1.5, timeout_s=60.0, max_timeout_s=60.0, max_concurrent=1,
                      state_dir=str(state / "cpu-share"),
                      compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
    runner = Runner(config)
    # XLA's matmul threads until the run has used 1.3 x cpu_s of CPU time (all its threads).
    workload = (
        "import resource, jax, jax.numpy as jnp\n"
        "f = jax.jit(lambda x, w: jnp.tanh(x @ w) @ w.T)\n"
        "x = jnp.ones((512, 512)); w = jnp.ones((512, 512)) / 512\n"
        "def used():\n"
        "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    return r.ru_utime + r.ru_stime\n"
        "while used() < 1.3 * 1.5:\n"
        "    f(x, w).block_until_ready()\n"
        "print('cpu', round(used(), 2))\n"
    )
    try:
        runner.start()
        cores = len(os.sched_getaffinity(0))
        limits = runner.status()["limits"]
        assert limits["cores_per_run"] == cores and limits["cpu_limit_s"] == 1.5 * cores
        ordinary = runner.run(RunRequest(code=workload))
        spin = runner.run(RunRequest(code="while True:\n    pass\n"))
    finally:
        runner.close()
    if cores < 2:
        pytest.skip("one core: the share is one core, the limit cpu_s")
    assert ordinary.status == "ok", ordinary
    assert float(ordinary.stdout.split()[-1]) > 1.5  # more than cpu_s: once a timeout
    assert spin.status == "timeout", spin
    assert f"more than {1.5 * cores:g} s of CPU time" in spin.message


def test_background_warm_up_compiles_the_shipped_snippets_into_the_cache(state: Path) -> None:
    runner = Runner(Settings(state_dir=str(state / "snippets")), warm_snippets=True)
    cache = default_runtime_cache(runner.settings)
    try:
        runner.start()
        basic = len(list(cache.glob("jit_*")))

        def warmed() -> int:
            done, _, total = runner.status()["warm"].get("snippets", "0/0").partition("/")
            assert int(total) > 10  # the whole library is planned
            return int(done)

        assert _wait_for(lambda: warmed() >= 3, 60)
        assert len(list(cache.glob("jit_*"))) > basic  # trusted runs wrote new entries
        # User runs keep priority and still work while the background fills the cache.
        assert runner.run(RunRequest(code="print('user first')")).stdout == "user first\n"
        assert not list(cache.glob("snippets-*"))  # the marker only once all are done
    finally:
        runner.close()
