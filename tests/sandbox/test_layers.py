"""Each sandbox layer, tested in a real forked child (no Runner needed)."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from app.config import Settings
from app.runner import sandbox
from tests.sandbox.childprobe import run_in_child


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir()
    return path


def test_probe_reports_every_layer_by_name() -> None:
    layers = sandbox.probe()
    assert set(layers) == set(sandbox.LAYERS)
    assert all(isinstance(v, bool) for v in layers.values())


def test_environment_is_an_allow_list(settings: Settings, scratch: Path, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("PLAYGROUND_HOSTED", "1")
    outcome = run_in_child(lambda: dict(os.environ), settings, scratch)
    assert outcome.error is None
    env = outcome.value
    assert "SECRET_TOKEN" not in env and "PLAYGROUND_HOSTED" not in env
    assert env["HOME"] == str(scratch)


def test_rlimits_are_applied(settings: Settings, scratch: Path) -> None:
    def limits() -> dict[str, list[int]]:
        names = ("RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_CPU")
        return {n: list(resource.getrlimit(getattr(resource, n))) for n in names}

    outcome = run_in_child(limits, settings, scratch)
    assert outcome.error is None and outcome.active["rlimits"]
    got = outcome.value
    assert got["RLIMIT_DATA"][0] == settings.memory_mb << 20
    assert got["RLIMIT_FSIZE"][0] == settings.file_size_mb << 20
    assert got["RLIMIT_NOFILE"][0] == settings.open_files
    assert got["RLIMIT_CORE"] == [0, 0]
    assert 0 < got["RLIMIT_CPU"][0] <= settings.cpu_s + 2


def test_list_bomb_becomes_memory_error(scratch: Path) -> None:
    small = Settings(memory_mb=300)

    def bomb() -> str:
        try:
            _ = [0] * (400 << 20)
        except MemoryError:
            return "MemoryError"
        return "allocated"

    assert run_in_child(bomb, small, scratch).value == "MemoryError"


def test_required_layer_missing_fails_closed(scratch: Path) -> None:
    strict = Settings(require_sandbox="no_such_layer")
    with pytest.raises(sandbox.SandboxUnavailable, match="no_such_layer"):
        sandbox.probe(strict)
    outcome = run_in_child(lambda: "ran", strict, scratch)
    assert outcome.value is None and "no_such_layer" in (outcome.error or "")
