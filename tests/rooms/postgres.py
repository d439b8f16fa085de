"""A private PostgreSQL server for tests: initdb + pg_ctl into a temp dir on a free port.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user that
Debian's package creates (else `nobody`), through runuser; its folder belongs to that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.browser.serving import free_port


def server_bin() -> Path | None:
    """The folder with initdb and pg_ctl (Debian keeps them out of PATH), newest version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], user
    raise RuntimeError("no unprivileged user to run PostgreSQL as")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a postgresql+psycopg URL of a fresh, empty database; stops and removes it after."""
    binaries = server_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
    prefix, user = _as_user()
    # Not under pytest's 0700 temp root: the server's user must reach its folder.
    root = Path(tempfile.mkdtemp(prefix="pg-test-", dir="/tmp"))
    os.chmod(root, 0o755)
    data = root / "data"
    port = free_port()
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [*prefix, *map(str, args)], check=True, capture_output=True, env=env, timeout=120)
    try:
        run(binaries / "initdb", "-D", data, "--auth=trust", "-U", "playground",
            "--encoding=UTF8", "--no-sync")
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=120")
        run(binaries / "pg_ctl", "-D", data, "-l", root / "server.log", "-o", options,
            "-w", "-t", "60", "start")
        url = f"postgresql+psycopg://playground@127.0.0.1:{port}/postgres"
        _wait_ready(url)
        yield url
    finally:
        with contextlib.suppress(Exception):
            run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: str, timeout_s: float = 30) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
