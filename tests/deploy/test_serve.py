"""scripts/serve.sh: how PLAYGROUND_* settings become Streamlit options.

The script ends in `exec $PYTHON -m app.server run ...`; here PYTHON is a recorder that writes the
argv and environment it was given, so that the script's own logic is observed. That every
STREAMLIT_* variable it sets is a real Streamlit option is checked with the real
`streamlit config show`; the real start is covered by deploy/container-check.sh.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVE = REPO / "scripts" / "serve.sh"
RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD_TO"], "w") as f:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, f)
"""


def serve(tmp_path: Path, env: dict[str, str], *args: str) -> dict:
    recorder = tmp_path / "python"
    recorder.write_text(RECORDER.format(python=sys.executable))
    recorder.chmod(0o755)
    record = tmp_path / "record.json"
    base = {"PATH": os.environ["PATH"], "PYTHON": str(recorder), "RECORD_TO": str(record)}
    subprocess.run([str(SERVE), *args], env={**base, **env}, check=True, timeout=30)
    return json.loads(record.read_text())


def test_default_start_command(tmp_path: Path) -> None:
    seen = serve(tmp_path, {})
    assert seen["argv"] == ["-m", "app.server", "run", "app/main.py", "--server.port", "8501"]
    assert seen["env"]["STREAMLIT_SERVER_HEADLESS"] == "true"
    assert seen["env"]["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert seen["env"]["STREAMLIT_BROWSER_SERVER_ADDRESS"] == "localhost"
    assert "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS" not in seen["env"]


def test_server_address_can_be_named(tmp_path: Path) -> None:
    seen = serve(tmp_path, {"STREAMLIT_BROWSER_SERVER_ADDRESS": "play.example.org"})
    assert seen["env"]["STREAMLIT_BROWSER_SERVER_ADDRESS"] == "play.example.org"


def test_port_address_and_extra_arguments(tmp_path: Path) -> None:
    seen = serve(tmp_path, {"PORT": "9000", "ADDRESS": "127.0.0.1"}, "--logger.level", "info")
    assert seen["argv"][4:] == ["--server.port", "9000", "--server.address", "127.0.0.1",
                                "--logger.level", "info"]


@pytest.mark.parametrize("hosted", ["1", "true", "YES", "on"])
def test_hosted_mode_hides_error_details_and_the_developer_menu(tmp_path: Path,
                                                                hosted: str) -> None:
    env = serve(tmp_path, {"PLAYGROUND_HOSTED": hosted})["env"]
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] == "none"
    assert env["STREAMLIT_CLIENT_TOOLBAR_MODE"] == "viewer"
    assert env["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] == "none"


def test_not_hosted_when_off(tmp_path: Path) -> None:
    env = serve(tmp_path, {"PLAYGROUND_HOSTED": "0"})["env"]
    assert "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS" not in env


@pytest.mark.parametrize(("theme", "base"), [("light", "light"), ("dark", "dark"), ("auto", None)])
def test_theme(tmp_path: Path, theme: str, base: str | None) -> None:
    env = serve(tmp_path, {"PLAYGROUND_THEME": theme})["env"]
    assert env.get("STREAMLIT_THEME_BASE") == base


def test_every_streamlit_variable_it_sets_is_a_real_option() -> None:
    exported = dict(re.findall(r"export (STREAMLIT_\w+)=([\w-]+)", SERVE.read_text()))
    assert "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS" in exported
    proc = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        env={**os.environ, **exported}, capture_output=True, text=True, check=True, timeout=60,
    )
    for variable, value in exported.items():
        option = variable.removeprefix("STREAMLIT_").lower().split("_")
        section, words = option[0], option[1:]
        key = words[0] + "".join(w.title() for w in words[1:])
        shown = re.search(rf"^\[{section}\]$(.*?)(?=^\[|\Z)", proc.stdout, re.M | re.S)
        assert shown is not None, section
        expected = "true" if value == "true" else "false" if value == "false" else f'"{value}"'
        assert re.search(rf"^{key} = {expected}$", shown.group(1), re.M), (variable, value)
