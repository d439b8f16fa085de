"""Issue 9, item 5: concurrent runs do not share a uid, so per-user kernel quotas are their own.

Through the shared Runner (tests/conftest.py; one slot per core): a run holding every inotify
instance a user may have (fs.inotify.max_user_instances, 128 by default) while a concurrent run
calls inotify_init. With every run as uid 65534 the second one failed with EMFILE.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner
from app.runner.supervisor.uids import UidPool

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or Settings().max_concurrent < 2,
    reason="per-run uids need root, and this test two slots",
)

HOG = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
held = []
while len(held) < 100_000:
    fd = libc.inotify_init1(0)
    if fd < 0:
        break
    held.append(fd)
print("uid", os.getuid(), "held", len(held), "errno", ctypes.get_errno())
print("ready", time.monotonic(), flush=True)
time.sleep(5)
print("end", time.monotonic())
"""
VICTIM = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
print("uid", os.getuid(), "fd", fd, "errno", ctypes.get_errno(), "at", time.monotonic())
"""


def _numbers(result: RunResult) -> dict[str, float]:
    words = result.stdout.split()
    return {words[i]: float(words[i + 1]) for i in range(0, len(words) - 1, 2)
            if words[i].isalpha()}


def _hog_and_victim(runner: Runner) -> tuple[RunResult, RunResult]:
    """The hog's run, and a victim's run started while the hog holds its instances."""
    box: dict[str, RunResult] = {}
    running = threading.Event()

    def hog() -> None:
        box["hog"] = runner.run(RunRequest(code=HOG, timeout_s=20),
                                lambda kind, _: running.set() if kind == "running" else None)

    thread = threading.Thread(target=hog)
    thread.start()
    assert running.wait(60)
    time.sleep(1.5)
    victim = runner.run(RunRequest(code=VICTIM))
    thread.join(60)
    return box["hog"], victim


def test_a_run_holding_every_inotify_instance_leaves_others_theirs(runner: Runner) -> None:
    for _attempt in range(3):  # the two must overlap in time; a very slow box may need a retry
        hog, victim = _hog_and_victim(runner)
        assert hog.status == "ok", hog
        assert victim.status == "ok", victim
        held, seen = _numbers(hog), _numbers(victim)
        if held["ready"] < seen["at"] < held["end"]:
            break
    else:
        pytest.fail("the two runs never overlapped")
    assert held["held"] >= 100  # it took (nearly) every instance its uid may have
    assert seen["fd"] >= 0, victim.stdout  # and the other run still got one
    assert held["uid"] != seen["uid"]
    first = runner.settings.run_uid_first
    assert {held["uid"], seen["uid"]} <= set(range(first, first + runner.settings.run_uid_count))


def test_the_uid_pool_hands_out_each_uid_once_and_takes_it_back() -> None:
    pool = UidPool(500_000, 3)
    taken = [pool.acquire() for _ in range(3)]
    assert taken == [500_000, 500_001, 500_002] and pool.acquire() is None
    pool.release(500_001)
    pool.release(500_001)  # twice: still once in the pool
    pool.release(123)  # not ours: ignored
    assert pool.acquire() == 500_001 and pool.acquire() is None
    assert pool.in_use() == 3
