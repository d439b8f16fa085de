"""Per-run limits that need no cgroup (what holds a run in a container whose cgroups are
read-only), and the OOM score a run cannot keep lowered. Real processes, real JAX, real kernel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.config import Settings
from app.runner import limits
from app.runner.api import start_check
from app.runner.supervisor import oom_guard

REPO = Path(__file__).resolve().parents[3]


def _python(code: str, *prefix: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.mark.slow
def test_address_space_limit_refuses_a_shared_mapping_and_leaves_jax_working() -> None:
    done = _python("""
        import mmap
        from app.config import Settings
        from app.runner.sandbox import rlimits
        rlimits.apply(Settings(memory_mb=768), address_space=True)
        import jax, jax.numpy as jnp
        print(float(jax.jit(lambda x: (x @ x.T).sum())(jnp.ones((256, 256)))))
        small = mmap.mmap(-1, 256 << 20)  # shared, within the run's memory
        small[:] = b"1" * len(small)
        try:
            mmap.mmap(-1, 4 << 30)  # MAP_SHARED: not counted by RLIMIT_DATA
        except OSError as exc:
            print("refused", exc.errno)
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["16777216.0", "refused 12"], done.stdout


def test_address_space_is_off_where_an_accelerator_driver_maps_memory() -> None:
    from app.runner.sandbox import rlimits

    has_device = any(Path(p).exists() for p in rlimits.ACCELERATOR_DEVICES)
    assert rlimits.address_space_allowed() == (not has_device
                                               or os.environ.get("JAX_PLATFORMS") == "cpu")


TREE = """
import os, sys, time
open('/proc/self/oom_score_adj', 'w').write('1000')
if os.fork() == 0:
    if os.fork() == 0:
        if sys.argv[1] == 'lower':
            with open('/proc/self/oom_score_adj', 'w') as f:
                f.write('999')
        print('ready', flush=True)
        time.sleep(60)
    time.sleep(60)
time.sleep(60)
"""


@pytest.mark.parametrize("action", ["lower", "keep"])
def test_oom_guard_finds_a_lowered_score_anywhere_in_a_runs_tree(action: str) -> None:
    tree = subprocess.Popen([sys.executable, "-c", TREE, action], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        assert tree.stdout is not None and tree.stdout.readline() == "ready\n"
        found = oom_guard.lowered([tree.pid])
    finally:
        os.killpg(tree.pid, 9)
        tree.wait()
    assert found == ({tree.pid} if action == "lower" else set())


LOWER_AFTER_DROP = """
import ctypes, os
open('/proc/self/oom_score_adj', 'w').write('1000')
if os.geteuid() == 0:
    os.setresuid(65534, 65534, 65534)  # from root to a plain uid: every capability goes
if sys.argv[1] == 'dumpable':  # as after an exec: the process's /proc files are its own again
    ctypes.CDLL(None).prctl(4, 1)  # PR_SET_DUMPABLE
try:
    with open('/proc/self/oom_score_adj', 'w') as f:
        f.write('0')
except OSError as exc:
    print('refused', exc.errno)
else:
    print('accepted')
print(open('/proc/self/oom_score_adj').read().strip())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="drops from root like the sandbox does")
def test_oom_guard_knows_when_the_kernel_keeps_a_runs_score() -> None:
    """The kernel records 1000 as the process's minimum only when it is written with
    CAP_SYS_RESOURCE; without it a process whose /proc files are its own (dumpable, as after
    an exec) may write 0. kernel_keeps_minimum predicts which, so the supervisor checks exactly
    where it must."""
    code = "import sys\n" + LOWER_AFTER_DROP
    plain = subprocess.run([sys.executable, "-c", code, "plain"], capture_output=True,
                           text=True, timeout=60, check=False)
    dumpable = subprocess.run([sys.executable, "-c", code, "dumpable"], capture_output=True,
                              text=True, timeout=60, check=False)
    no_caps = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c",
                              code, "dumpable"], capture_output=True, text=True, timeout=60,
                             check=False)
    # Right after the uid change the process is not dumpable: its /proc files are root's.
    assert plain.stdout.split() == ["refused", "13", "1000"], plain.stderr
    if oom_guard.kernel_keeps_minimum():
        assert dumpable.stdout.split() == ["refused", "13", "1000"], dumpable.stderr
    else:
        assert dumpable.stdout.split() == ["accepted", "0"], dumpable.stderr
    assert no_caps.stdout.split() == ["accepted", "0"], no_caps.stderr


@pytest.mark.slow
def test_a_hosted_server_starts_here_because_a_runs_memory_is_bounded() -> None:
    assert start_check.check(Settings(hosted=True)) is None


def test_hosted_refuses_unbounded_memory_unless_allowed() -> None:
    unbounded = {"cgroup_memory": False, "rlimit_as": False}
    assert start_check.refusal(Settings(hosted=True), unbounded) == start_check.REFUSAL
    assert "PLAYGROUND_ALLOW_UNBOUNDED_MEMORY=1" in start_check.REFUSAL
    assert start_check.refusal(Settings(hosted=True, allow_unbounded_memory=True),
                               unbounded) is None
    assert start_check.refusal(Settings(hosted=False), unbounded) is None
    assert start_check.refusal(Settings(hosted=True), {"rlimit_as": True}) is None
    assert start_check.refusal(Settings(hosted=True), {"cgroup_memory": True}) is None


def test_every_result_says_how_each_limit_held() -> None:
    s = Settings(memory_mb=768, max_pids=64, file_size_mb=8)
    in_container = {"rlimit_as": True, "rlimit_nproc": True, "oom_score_adj": True}
    said = limits.describe(in_container, s, oom_kept_by_kernel=False)
    assert "no memory cgroup here: RLIMIT_DATA 768 MiB and RLIMIT_AS" in said["memory"]
    assert said["processes"].startswith("RLIMIT_NPROC 64")
    assert said["cpu"].startswith("no cpu cgroup here")
    assert "supervisor ends a run that lowers it" in said["oom_score"]
    on_host = {"cgroup_memory": True, "cgroup_pids": True, "cgroup_cpu": True,
               "rlimit_as": True, "oom_score_adj": True}
    said = limits.describe(on_host, s, oom_kept_by_kernel=True)
    assert said["memory"].startswith("memory cgroup, 768 MiB")
    assert said["processes"] == "pids cgroup, 64 processes and threads"
    assert "kept by the kernel" in said["oom_score"]
    assert limits.describe({}, s, True)["memory"].startswith("UNBOUNDED")


def test_a_run_result_carries_its_limits() -> None:
    from app.protocol import RunResult, from_dict, to_dict

    result = RunResult(status="ok", limits={"memory": "memory cgroup, 768 MiB"})
    assert from_dict(RunResult, to_dict(result)).limits == result.limits
