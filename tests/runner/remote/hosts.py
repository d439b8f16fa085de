"""Worker hosts as the deployment starts them: `python -m app worker-host --redis URL --slots N`,
each in its own process group (so a test can SIGKILL or SIGSTOP the group, as a machine dies or
hangs), with its log kept for the failure message. bench/remote.py uses them too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from app.config import Settings, load
from app.runner.remote.client import RemoteRunner
from app.runner.remote.connection import connect
from app.runner.remote.queue import RedisQueue

REPO = Path(__file__).resolve().parents[3]
TTL_S = 3.0  # the hosts' heartbeat TTL in these tests (the default is 5 s)
READY_TIMEOUT_S = 180.0  # a cold host imports jax twice and runs its warm-up


class HostProcess:
    def __init__(self, url: str, log_dir: Path, slots: int = 1, ttl_s: float = TTL_S,
                 env: dict[str, str] | None = None, url_in_env: bool = False) -> None:
        """url_in_env: the URL (with its password) in PLAYGROUND_RUNNER_URL, not in argv."""
        self.url = url
        self.log_path = log_dir / f"host-{time.monotonic_ns()}.log"
        env = dict(os.environ, PLAYGROUND_HOST_TTL_S=str(ttl_s), **(env or {}))
        where = ["--redis", url]
        if url_in_env:
            env["PLAYGROUND_RUNNER_URL"] = url
            where = []
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "worker-host", *where,
                 "--slots", str(slots), "--no-snippet-warmup"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.host_id = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until its heartbeat is in Redis (it claims runs from then on)."""
        client = connect(self.url)
        try:
            queue = RedisQueue(client)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the worker host exited:\n{self.log()}")
                for entry in queue.snapshot().hosts:
                    if entry.status.get("pid") == self.pid:
                        self.host_id = entry.host
                        return
                time.sleep(0.2)
        finally:
            client.close()
        raise RuntimeError(f"the worker host never sent a heartbeat:\n{self.log()}")

    def tree(self) -> list[psutil.Process]:
        """The host and everything it started (supervisor, zygote, runs)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def signal_group(self, signum: int) -> None:
        os.killpg(self.pid, signum)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.process.wait(10)


def start_hosts(url: str, log_dir: Path, count: int, slots: int = 1,
                ttl_s: float = TTL_S) -> list[HostProcess]:
    hosts = [HostProcess(url, log_dir, slots, ttl_s) for _ in range(count)]
    for host in hosts:  # started together: their imports overlap
        host.wait_ready()
    return hosts


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.NoSuchProcess:
            pass
    return left


def wait_gone(processes: list[psutil.Process], timeout: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while alive(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(processes)


def replica_settings(url: str, **changes: object) -> Settings:
    """An app replica's settings (the environment's PLAYGROUND_* ignored), pointed at url."""
    return replace(load({}), runner_url=url, **changes)  # type: ignore[arg-type]


@contextmanager
def replica(url: str, **changes: object) -> Iterator[RemoteRunner]:
    runner = RemoteRunner(replica_settings(url, **changes))
    try:
        yield runner
    finally:
        runner.close()


@dataclass
class Cluster:
    """A private Redis, worker hosts serving it, and one app replica's RemoteRunner."""

    url: str
    hosts: list[HostProcess]
    runner: RemoteRunner


@dataclass
class InFlight:
    """What Redis holds for runs still on their way (should be nothing between tests)."""

    queued: int
    held: dict[str, int]  # host -> runs it holds
    unfinished: list[str]  # run records not "done"


def in_flight(url: str) -> InFlight:
    client = connect(url)
    try:
        held = {host: int(client.scard(f"pg:host:{host}:runs"))
                for host in client.smembers("pg:hosts")}
        unfinished = [key for key in client.scan_iter("pg:run:*")
                      if client.hget(key, "state") != "done"]
        return InFlight(int(client.zcard("pg:queue")), {h: n for h, n in held.items() if n},
                        unfinished)
    finally:
        client.close()
