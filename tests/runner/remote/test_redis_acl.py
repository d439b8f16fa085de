"""Redis as the deployments start it (deploy/kubernetes/redis-acl.sh, the script compose and
Kubernetes run): a private redis-server with the playground's users, a real worker host and an
app replica each with its own user, a run through them; and what each user may not do.

The worker host takes its URL, password included, from the environment: no process of the host
(host, supervisor, zygote, runs) carries a password in its command line."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.protocol import RunRequest
from tests.redis_server import free_port
from tests.runner.remote.hosts import HostProcess, replica, wait_gone

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "deploy" / "kubernetes" / "redis-acl.sh"
START_TIMEOUT_S = 15.0


class AclRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.app_password = secrets.token_hex(32)
        self.host_password = secrets.token_hex(32)
        password_file = directory / "host-password"
        password_file.write_text(self.host_password + "\n")
        env = dict(os.environ, REDIS_APP_PASSWORD=self.app_password,
                   REDIS_HOST_PASSWORD_FILE=str(password_file),
                   REDIS_ACL_FILE=str(directory / "users.acl"))
        self.acl = directory / "users.acl"
        self.process = subprocess.Popen(
            ["sh", str(SCRIPT), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory), "--logfile",
             str(directory / "redis.log")], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("redis-acl.sh did not start redis-server") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def url(self, user: str, password: str) -> str:
        return f"redis://{user}:{password}@127.0.0.1:{self.port}/0"

    def client(self, user: str | None = None, password: str | None = None) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, username=user, password=password,
                           decode_responses=True, socket_timeout=5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    server = AclRedis(tmp_path_factory.mktemp("acl-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def host(acl_redis: AclRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    process = HostProcess(acl_redis.url("playground-host", acl_redis.host_password),
                          tmp_path_factory.mktemp("acl-host"), url_in_env=True)
    process.wait_ready()
    tree = process.tree()
    yield process
    process.stop()
    assert process.process.returncode == 0, process.log()
    assert not wait_gone(tree)


def test_a_run_goes_through_redis_with_the_deployments_users(
        acl_redis: AclRedis, host: HostProcess) -> None:
    with replica(acl_redis.url("playground-app", acl_redis.app_password)) as runner:
        result = runner.run(RunRequest(code="print(6 * 7)", session_id="acl-session"))
    assert result.status == "ok" and result.stdout == "42\n", result


def test_no_process_of_a_worker_host_carries_the_password_in_its_command_line(
        acl_redis: AclRedis, host: HostProcess) -> None:
    tree = host.tree()
    assert len(tree) >= 3  # the host, its supervisor, its zygote (and waiting children)
    for process in tree:
        line = " ".join(process.cmdline())
        assert acl_redis.host_password not in line, process.pid
        assert acl_redis.app_password not in line, process.pid


def test_the_acl_file_holds_hashes_only_and_only_its_owner_reads_it(acl_redis: AclRedis) -> None:
    text = acl_redis.acl.read_text()
    assert acl_redis.app_password not in text and acl_redis.host_password not in text
    assert text.count(" #") == 2  # two users with a SHA-256 each
    assert stat.S_IMODE(acl_redis.acl.stat().st_mode) == 0o600


def test_without_a_password_only_ping_answers(acl_redis: AclRedis) -> None:
    anonymous = acl_redis.client()
    try:
        assert anonymous.ping()
        for command in (("GET", "pg:queue"), ("KEYS", "*"), ("FCALL", "pg_version", "0"),
                        ("CONFIG", "GET", "requirepass")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                anonymous.execute_command(*command)
    finally:
        anonymous.close()


@pytest.mark.parametrize("user", ["playground-app", "playground-host"])
def test_each_user_reaches_the_playground_keys_only(acl_redis: AclRedis, user: str) -> None:
    password = acl_redis.app_password if user == "playground-app" else acl_redis.host_password
    client = acl_redis.client(user, password)
    try:
        assert client.fcall("pg_version", 0)  # the queue's functions answer
        client.set("pg:acl-probe", "1")
        assert client.get("pg:acl-probe") == "1"
        client.delete("pg:acl-probe")
        refused = [("GET", "session:secret"), ("SET", "other", "1"), ("KEYS", "*"),
                   ("SCAN", "0"), ("FLUSHALL",), ("CONFIG", "GET", "*"),
                   ("EVAL", "return redis.call('GET', 'other')", "0"), ("ACL", "LIST"),
                   ("MODULE", "LIST"), ("CLIENT", "LIST"),
                   ("SUBSCRIBE", "pg:x"), ("SHUTDOWN",)]
        for command in refused:
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.execute_command(*command)
    finally:
        client.close()
    with pytest.raises(redis.exceptions.AuthenticationError):
        acl_redis.client(user, "wrong-" + password).ping()
