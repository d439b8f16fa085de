"""`python -m app worker-host --redis URL [--slots N]`: the names deployments script, and clear
refusals of bad arguments (before anything starts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import _parser
from app.runner.platform import REPO_ROOT


def worker_host(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_RUNNER_URL"}
    return subprocess.run([sys.executable, "-m", "app", "worker-host", *args],
                          capture_output=True, text=True, cwd=str(REPO_ROOT), timeout=60,
                          env={**environment, **(env or {})})


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
    missing = worker_host()
    assert missing.returncode == 2 and "PLAYGROUND_RUNNER_URL" in missing.stderr
    done = worker_host("--redis", "http://example.invalid/0")
    assert done.returncode == 2
    assert "expected redis://HOST:PORT/DB" in done.stderr


def test_a_password_on_the_command_line_is_refused() -> None:
    """Every local user reads a process's arguments (ps): the password comes from the
    environment (PLAYGROUND_RUNNER_URL) or a file instead."""
    done = worker_host("--redis", "redis://playground-host:hunter2-secret@127.0.0.1:1/0")
    assert done.returncode == 2
    assert "process list" in done.stderr and "hunter2" not in done.stderr


def test_the_url_may_come_from_the_environment_and_the_password_from_a_file(
        tmp_path: Path) -> None:
    from app.runner.remote.host import redis_url

    secret = tmp_path / "password"
    secret.write_text("p@ss:w/rd\n")
    url = redis_url("redis://playground-host@redis:6379/0", str(secret))
    assert url == "redis://playground-host:p%40ss%3Aw%2Frd@redis:6379/0"
    bad = worker_host("--redis-password-file", str(tmp_path / "missing"),
                      env={"PLAYGROUND_RUNNER_URL": "redis://u@127.0.0.1:1/0"})
    assert bad.returncode == 2 and "--redis-password-file" in bad.stderr
