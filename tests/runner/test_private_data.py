"""The rooms database is private to the server: a run can neither see its folder nor read its
URL (which may carry a password) from its own process; nor the run queue's Redis URL."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings, private_dirs
from app.protocol import RunRequest
from app.runner.api.runner import Runner
from app.runner.sandbox import mounts
from tests.runner.sandbox_expected import missing

SECRET = "pw-4f1c9e0b7d"

PROBE = """
import gc, json, os, sys
data = {data!r}
found = {{"exists": os.path.exists(data + "/playground.db"),
          "listing": sorted(os.listdir(data)) if os.path.isdir(data) else None,
          "argv": {secret!r} in " ".join(sys.argv),
          "environ": any({secret!r} in v for v in os.environ.values()),
          "memory": any(isinstance(o, str) and {secret!r} in o for o in gc.get_objects()),
          "cmdline": {secret!r}.encode() in open("/proc/self/cmdline", "rb").read()}}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A data dir in a place runs would otherwise see (not /tmp, not the checkout, not /home)."""
    if os.geteuid() != 0:
        pytest.skip("needs a folder outside the hidden ones; as root /var/lib is used")
    folder = Path(tempfile.mkdtemp(prefix="playground-test-", dir="/var/lib"))
    (folder / "playground.db").write_text("people's code and tokens")
    # Readable by anyone: the sandbox must hide it even where file modes would not.
    folder.chmod(0o755)
    (folder / "playground.db").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_run_sees_neither_the_database_nor_its_url(
        data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(
        state_dir=str(tmp_path_factory.mktemp("private-state")), data_dir=str(data_dir),
        database_url=f"postgresql+psycopg://playground:{SECRET}@127.0.0.1:5/rooms", prefork=0,
        runner_url=f"redis://:{SECRET}@127.0.0.1:6/0")  # a worker host's Redis URL: the same
    runner = Runner(settings)
    try:
        result = runner.run(RunRequest(PROBE.format(data=str(data_dir), secret=SECRET)))
    finally:
        runner.close()
    assert result.status == "ok", result.message + result.stderr
    if not result.sandbox.get("filesystem"):
        missing("this host gives runs no private filesystem view")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"exists": False, "listing": [], "argv": False, "environ": False,
                     "memory": False, "cmdline": False}


def test_a_sqlite_database_elsewhere_hides_its_own_folder(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:////srv/rooms/playground.db", data_dir="/srv/data")
    assert Path("/srv/rooms") in private_dirs(settings)
    (tmp_path / "db").mkdir()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'p.db'}")
    plan = mounts.plan(tmp_path / "scratch", 16, 65534, 65534, None, None,
                       private_dirs(settings))
    assert (tmp_path / "db").resolve() in plan.hidden


def test_settings_for_runs_drop_a_server_database_url_only() -> None:
    server = Settings(database_url=f"postgresql+psycopg://u:{SECRET}@db/rooms")
    assert server.for_runs().database_url == ""
    local = Settings(database_url="sqlite:////srv/rooms/playground.db")
    assert local.for_runs().database_url == local.database_url
