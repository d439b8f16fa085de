"""deploy/seccomp-playground.json, the container's seccomp profile, applied for real with
libseccomp: it refuses what it lists, and the sandbox still works under it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import seccomp_profile

REPO = Path(__file__).resolve().parents[2]
UNDER_PROFILE = [sys.executable, "-m", "deploy.seccomp_profile", "--exec", "--"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

PROBE = """
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    ctypes.set_errno(0)
    return libc.syscall(nr, *args), ctypes.get_errno()
NR = {"keyctl": 250, "bpf": 321, "perf_event_open": 298, "ptrace": 101, "setns": 308,
      "io_uring_setup": 425, "userfaultfd": 323, "kexec_load": 246, "getpid": 39}
for name, nr in NR.items():
    ret, err = call(nr, 0, 0, 0, 0, 0)
    print(name, ret, errno.errorcode.get(err, err))
"""


def probe(prefix: list[str]) -> dict[str, str]:
    proc = subprocess.run([*prefix, sys.executable, "-c", PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    return {line.split()[0]: line.split()[2] for line in proc.stdout.splitlines()}


def test_json_on_disk_is_the_generated_profile() -> None:
    on_disk = (REPO / "deploy" / "seccomp-playground.json").read_text()
    assert on_disk == seccomp_profile.render(), "run `python -m deploy.seccomp_profile --write`"
    data = json.loads(on_disk)
    denied = {n for rule in data["syscalls"] for n in rule["names"]}
    assert not denied & set(seccomp_profile.SANDBOX_NEEDS)


def test_listed_syscalls_are_refused_with_eperm_and_others_work() -> None:
    if platform.machine() != "x86_64":
        pytest.skip("syscall numbers in the probe are x86_64")
    without = probe([])
    under = probe(UNDER_PROFILE)
    assert under["getpid"] == "0"  # allowed: errno untouched
    for name in ("keyctl", "bpf", "perf_event_open", "ptrace", "setns", "io_uring_setup",
                 "userfaultfd", "kexec_load"):
        assert under[name] == "EPERM", (name, under[name])
    # The probe really reaches the kernel: without the profile, at least keyctl and bpf answer
    # differently (EINVAL, EFAULT, ...), so EPERM above is the profile's doing.
    assert without["keyctl"] != "EPERM" or without["bpf"] != "EPERM"


def test_bubblewrap_still_builds_its_namespaces_under_the_profile() -> None:
    if subprocess.run(["which", "bwrap"], capture_output=True, check=False).returncode:
        pytest.skip("bubblewrap not installed")
    bwrap = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
             "/bin/sh", "-c", "echo sandboxed > /tmp/x && cat /tmp/x && id -u"]
    # As root, bubblewrap would map root to root: run it as nobody, as the image's user would.
    prefix = UNDER_PROFILE + (NOBODY if os.geteuid() == 0 else [])
    proc = subprocess.run([*prefix, *bwrap], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    if "setting up uid map" in proc.stderr or "No permissions to creat" in proc.stderr:
        pytest.skip(f"this host forbids unprivileged user namespaces: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "sandboxed"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_sandboxed_run_succeeds_under_the_profile(tmp_path: Path) -> None:
    script = (
        "from app.protocol import RunRequest\n"
        "from app.runner.factory import get_runner\n"
        "r = get_runner()\n"
        "res = r.run(RunRequest(code='import jax.numpy as jnp\\nprint(jnp.arange(4).sum())'))\n"
        "print(res.status, res.stdout.strip(), sorted(k for k, v in res.sandbox.items() if v))\n"
        "r.close()\n"
    )
    env_state = {"PLAYGROUND_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([*UNDER_PROFILE, sys.executable, "-c", script], cwd=REPO,
                          capture_output=True, text=True, timeout=220, check=False,
                          env={**os.environ, **env_state})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[:2] == ["ok", "6"], proc.stdout + proc.stderr[-2000:]
