"""docs/container.md's recipes are the ones that are run and shipped: the docker/podman options
are deploy/container-check.sh's, and the Kubernetes table names the worker-host pod spec's fields
with the values the manifest holds."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from deploy import engine_check

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "container.md").read_text()


def _run_block() -> list[str]:
    block = re.search(r"```bash\n(docker run -d .*?)\n```", DOC, re.S)
    assert block is not None
    return shlex.split(block.group(1).replace("\\\n", " "))


def test_documented_run_options_are_the_ones_the_check_runs() -> None:
    words = _run_block()
    documented = words[words.index("-p") + 2 :]
    # The check adds only its own port and name; the image last.
    expected = [*engine_check.DOCUMENTED_OPTIONS]
    assert documented[: len(expected)] == expected
    assert documented[-1] == "jax-playground"


def test_every_run_option_is_explained() -> None:
    table = DOC[DOC.index("| Option | Why |") : DOC.index("Never `--privileged`")]
    options = iter(engine_check.DOCUMENTED_OPTIONS)
    for option in options:
        shown = option if "=" in option and option.startswith("--") else f"{option} {next(options)}"
        assert f"| `{shown}` |" in table, shown


def test_kubernetes_table_matches_the_worker_host_pod_spec() -> None:
    manifest = yaml.safe_load((REPO / "deploy" / "kubernetes" / "worker-host.yaml").read_text())
    pod = manifest["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["hostUsers"] is False
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {
        "type": "Localhost", "localhostProfile": "profiles/seccomp-playground.json"}
    assert pod["securityContext"]["appArmorProfile"] == {"type": "Unconfined"}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["procMount"] == "Unmasked"
    assert "memory" in container["resources"]["limits"]
    for field in ("runAsUser: 10001", "runAsNonRoot: true", "capabilities: {drop: [ALL]}",
                  "allowPrivilegeEscalation: false", "procMount: Unmasked", "hostUsers: false",
                  "localhostProfile: profiles/seccomp-playground.json",
                  "appArmorProfile: {type: Unconfined}"):
        assert field in DOC, field
