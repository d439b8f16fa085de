"""`python -m app worker-host --redis URL [--slots N]`: the names deployments script, and clear
refusals of bad arguments (before anything starts)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import _parser
from app.runner.platform import REPO_ROOT


def worker_host(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "worker-host", *args],
                          capture_output=True, text=True, cwd=str(REPO_ROOT), timeout=60)


def test_the_documented_names_parse() -> None:
    args = _parser().parse_args(["worker-host", "--redis", "redis://10.0.0.5:6379/0",
                                 "--slots", "4"])
    assert (args.command, args.redis, args.slots) == ("worker-host", "redis://10.0.0.5:6379/0", 4)
    assert args.handler == "app.runner.remote.host:worker_host_command"
    assert _parser().parse_args(["worker-host", "--redis", "redis://r:6379/1"]).slots is None


@pytest.mark.parametrize("slots", ["0", "-2", "many"])
def test_slots_must_be_a_positive_number(slots: str) -> None:
    done = worker_host("--redis", "redis://127.0.0.1:6379/0", "--slots", slots)
    assert done.returncode == 2 and "--slots" in done.stderr


def test_redis_is_required_and_must_be_a_redis_url() -> None:
    assert worker_host().returncode == 2
    done = worker_host("--redis", "http://example.invalid/0")
    assert done.returncode == 2
    assert "expected redis://HOST:PORT/DB" in done.stderr
