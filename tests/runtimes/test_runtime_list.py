"""runtimes.toml: what it lists, which runtime a request gets, and where interpreters are found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import runtimes
from app.config import Settings

GOOD = """
[[runtime]]
id = "0.4.38"
jax = "0.4.38"
jaxlib = "0.4.38"
python = "3.12"
pins = ["numpy==2.2.6"]

[[runtime]]
id = "0.12.0.1"
jax = "0.12.0.1"
jaxlib = "0.12.0.1"
python = "3.13"
"""


def test_the_list_is_sorted_newest_first_by_version_not_text() -> None:
    listed = runtimes.parse(GOOD)
    assert [r.id for r in listed] == ["0.12.0.1", "0.4.38"]
    assert listed[1].requirements() == ["jax==0.4.38", "jaxlib==0.4.38", "numpy==2.2.6"]


@pytest.mark.parametrize("bad, says", [
    ('[[runtime]]\nid = "x y"\njax = "1"\njaxlib = "1"\npython = "3.12"', "bad id"),
    ('[[runtime]]\nid = "1"\njax = "1"\njaxlib = "1"\npython = "3"', "series"),
    ('[[runtime]]\nid = "1"\njax = "1"\njaxlib = "1"\npython = "3.12"\npins = ["numpy>=2"]',
     "exact pin"),
    ('[[runtime]]\nid = "1"\njaxlib = "1"\npython = "3.12"', "missing"),
    ("", r"no \[\[runtime"),
])
def test_a_bad_list_is_refused_naming_the_entry(bad: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        runtimes.parse(bad)


def test_the_repository_list_has_the_newest_jax_and_the_versions_people_pin() -> None:
    ids = [r.id for r in runtimes.listed()]
    assert ids[0].startswith("0.12.")
    assert {"0.10.2", "0.4.38"} <= set(ids)


def _fake_install(settings: Settings, runtime: runtimes.Runtime) -> None:
    folder = runtimes.venv(settings, runtime)
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to("/bin/true")
    (folder / runtimes.STAMP).write_text(runtime.spec() + "\n")


def test_only_installed_runtimes_are_offered_and_the_newest_is_the_default(
        tmp_path: Path) -> None:
    settings = Settings(runtimes_dir=str(tmp_path))
    listed = runtimes.listed()
    assert runtimes.installed(settings) == []
    with pytest.raises(runtimes.UnknownRuntime, match="make setup"):
        runtimes.resolve(settings, None)
    _fake_install(settings, listed[-1])
    assert runtimes.default(settings) == listed[-1]
    _fake_install(settings, listed[0])
    assert runtimes.resolve(settings, None) == listed[0]
    assert runtimes.resolve(settings, listed[-1].id) == listed[-1]
    with pytest.raises(runtimes.UnknownRuntime, match=r"'9\.9\.9' is not available here"):
        runtimes.resolve(settings, "9.9.9")


def test_a_venv_from_another_spec_is_not_installed(tmp_path: Path) -> None:
    settings = Settings(runtimes_dir=str(tmp_path))
    runtime = runtimes.listed()[0]
    _fake_install(settings, runtime)
    (runtimes.venv(settings, runtime) / runtimes.STAMP).write_text('{"python": "3.9"}\n')
    assert not runtimes.is_installed(settings, runtime)


def test_pyenv_interpreters_are_found_by_series_highest_patch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for patch in ("3.77.2", "3.77.10", "3.770.1"):
        binary = tmp_path / "versions" / patch / "bin" / f"python{patch.rsplit('.', 1)[0]}"
        binary.parent.mkdir(parents=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", os.defpath)
    assert runtimes.find_interpreter("3.77") == tmp_path / "versions/3.77.10/bin/python3.77"
    assert runtimes.find_interpreter("3.78") is None
