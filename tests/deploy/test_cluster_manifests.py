"""deploy/compose.yaml, deploy/haproxy.cfg and deploy/kubernetes/: the multi-host deployment,
checked as far as this machine allows (no Docker engine, no cluster): the Compose file against
the Compose specification's JSON schema, the Kubernetes objects against the API's schemas
(kubernetes-validate, strict), the proxy config by haproxy itself, and everything the files
promise against the app: worker-host commands parse with the app's own CLI, the Redis URL names
the Redis service, every PLAYGROUND_* variable is a real setting, GPUs are requested, browsers
stick to a replica and WebSockets may stay open."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from app.cli import _parser
from app.config import load
from app.runner.remote.connection import check_url
from app.runner.remote.host import DRAIN_MARGIN_S

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
K8S_DIR = DEPLOY / "kubernetes"
K8S_FILES = sorted(K8S_DIR.glob("*.yaml"))
K8S_OBJECTS = [doc for path in K8S_FILES if path.name != "kustomization.yaml"
               for doc in yaml.safe_load_all(path.read_text()) if doc]
K8S_VERSION = "1.33"  # appArmorProfile (1.30+), hostUsers and procMount are in its API
SHORTEST_DRAIN_S = load({}).max_timeout_s + DRAIN_MARGIN_S  # what a host needs on SIGTERM


def k8s(kind: str, name: str) -> dict[str, Any]:
    return next(o for o in K8S_OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name)


def worker_host_args(command: list[str]) -> Any:
    """The arguments as `python -m app` itself parses them (fails like the CLI would)."""
    assert command[:4] == ["python", "-m", "app", "worker-host"], command
    return _parser().parse_args(command[3:])


def redis_target(url: str) -> tuple[str, int, str]:
    check_url(url)
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 6379, parts.path.strip("/") or "0"


def seconds(text: str) -> float:
    value, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", text).groups()  # type: ignore[union-attr]
    return float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[unit]


# -- Compose ------------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)  # the spec's own draft
    validator.validate(COMPOSE)
    broken = {**COMPOSE, "services": {"app": {**SERVICES["app"], "replicaz": 2}}}
    with pytest.raises(jsonschema.ValidationError):  # the schema really checks
        validator.validate(broken)


def test_compose_worker_hosts_serve_the_redis_the_app_uses() -> None:
    host = SERVICES["worker-host"]
    args = worker_host_args(host["command"])
    assert args.slots >= 1
    assert args.redis is None  # from the environment, never on the command line
    host_url = host["environment"]["PLAYGROUND_RUNNER_URL"]
    app_url = SERVICES["app"]["environment"]["PLAYGROUND_RUNNER_URL"]
    assert redis_target(host_url) == redis_target(app_url) == ("redis", 6379, "0")
    assert "redis" in host["depends_on"] and "redis" in SERVICES["app"]["depends_on"]
    assert seconds(host["stop_grace_period"]) >= SHORTEST_DRAIN_S


def test_compose_worker_hosts_get_a_gpu_and_the_sandbox_options_never_privileged() -> None:
    host = SERVICES["worker-host"]
    devices = host["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert host["build"]["args"]["ACCELERATOR"] == "cuda13"
    options = host["security_opt"]
    assert "seccomp=seccomp-playground.json" in options  # beside compose.yaml (Compose v2)
    assert (DEPLOY / "seccomp-playground.json").is_file()
    assert {"apparmor=unconfined", "systempaths=unconfined"} <= set(options)
    assert host["cap_drop"] == ["ALL"]
    assert not any(s.get("privileged") for s in SERVICES.values())
    assert host["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py",
                                           "--worker-host"]


def test_compose_settings_are_real_settings_and_redis_keeps_nothing() -> None:
    for name in ("app", "worker-host"):
        environment = SERVICES[name].get("environment", {})
        load({k: str(v) for k, v in environment.items() if k.startswith("PLAYGROUND_")})
        assert all(k.startswith("PLAYGROUND_") for k in environment), name
    command = SERVICES["redis"]["command"]
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"


def test_the_proxy_sticks_browsers_to_a_replica_and_keeps_websockets_open() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in SERVICES["proxy"]["volumes"]
    assert re.search(r"^\s*cookie PLAYGROUND_REPLICA insert\b", config, re.M)
    tunnel = re.search(r"^\s*timeout tunnel (\S+)", config, re.M)
    assert tunnel and seconds(tunnel.group(1)) >= 3600
    assert re.search(r"server-template app \S+ app:8501 check", config)
    assert "/_stcore/health" in config


def _haproxy() -> str:
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(found).exists():
        pytest.fail("haproxy missing: scripts/system-deps.sh installs it (make setup)")
    return found


def test_haproxy_accepts_the_proxy_config(tmp_path: Path) -> None:
    checked = subprocess.run([_haproxy(), "-c", "-f", str(DEPLOY / "haproxy.cfg")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.cfg"  # and it really checks
    broken.write_text((DEPLOY / "haproxy.cfg").read_text().replace("timeout tunnel",
                                                                   "timeout tunel"))
    assert subprocess.run([_haproxy(), "-c", "-f", str(broken)], capture_output=True,
                          timeout=30).returncode != 0


# -- Kubernetes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", K8S_OBJECTS, ids=lambda o: f"{o['kind']}-{o['metadata']['name']}")
def test_kubernetes_objects_follow_the_api_schema(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_schema_check_is_strict() -> None:
    bad = json.loads(json.dumps(k8s("Deployment", "playground-worker-host")))
    bad["spec"]["template"]["spec"]["containers"][0]["gpus"] = 1  # not a field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S_FILES if p.name != "kustomization.yaml")


def test_every_service_selects_its_deployment_s_pods() -> None:
    for service in (o for o in K8S_OBJECTS if o["kind"] == "Service"):
        selector = service["spec"]["selector"]
        matches = [d for d in K8S_OBJECTS if d["kind"] == "Deployment" and selector.items()
                   <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matches) == 1, service["metadata"]["name"]
        ports = {p["name"] for c in matches[0]["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_kubernetes_worker_hosts_request_gpus_and_serve_the_app_s_redis() -> None:
    pod = k8s("Deployment", "playground-worker-host")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    args = worker_host_args(container["command"])
    name, port, _ = redis_target(args.redis)
    redis_service = k8s("Service", name)
    assert port in [p["port"] for p in redis_service["spec"]["ports"]]
    app = k8s("Deployment", "playground-app")["spec"]["template"]["spec"]["containers"][0]
    app_env = {e["name"]: e["value"] for e in app["env"] if "value" in e}
    assert redis_target(app_env["PLAYGROUND_RUNNER_URL"]) == redis_target(args.redis)
    for env in (app_env, {e["name"]: e["value"] for e in container.get("env", [])}):
        load(env)  # every variable is a setting with a valid value
    assert pod["terminationGracePeriodSeconds"] >= SHORTEST_DRAIN_S
    assert container["livenessProbe"]["exec"]["command"] == [
        "python", "deploy/healthcheck.py", "--worker-host"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert not container["securityContext"].get("privileged")


def test_the_ingress_sticks_browsers_to_a_replica_and_keeps_websockets_open() -> None:
    ingress = k8s("Ingress", "playground")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == "PLAYGROUND_REPLICA"
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = k8s("Service", backend["name"])
    assert backend["port"]["name"] in [p["name"] for p in service["spec"]["ports"]]
    assert k8s("Deployment", "playground-app")["spec"]["replicas"] >= 2


# -- Redis: authentication and users limited to the playground's keys -------------------------


def _user(url: str) -> tuple[str | None, str | None]:
    parts = urlsplit(url)
    return parts.username, parts.password


def test_compose_redis_starts_with_the_users_and_wants_both_passwords() -> None:
    redis = SERVICES["redis"]
    assert redis["entrypoint"] == ["sh", "/usr/local/bin/redis-acl.sh"]
    source, target, mode = redis["volumes"][0].split(":")
    assert (DEPLOY / source).resolve() == DEPLOY / "kubernetes" / "redis-acl.sh"
    assert (target, mode) == ("/usr/local/bin/redis-acl.sh", "ro")
    for name in ("REDIS_APP_PASSWORD", "REDIS_HOST_PASSWORD"):  # compose refuses to start
        assert redis["environment"][name].startswith(f"${{{name}:?"), name
    app = SERVICES["app"]["environment"]["PLAYGROUND_RUNNER_URL"]
    host = SERVICES["worker-host"]["environment"]["PLAYGROUND_RUNNER_URL"]
    assert _user(app) == ("playground-app", "${REDIS_APP_PASSWORD}")
    assert _user(host) == ("playground-host", "${REDIS_HOST_PASSWORD}")
    assert not any("REDIS_" in part for part in SERVICES["worker-host"]["command"])


def test_kubernetes_redis_users_come_from_one_secret_and_no_password_is_on_a_command_line(
        ) -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    (generated,) = kustomization["configMapGenerator"]
    assert generated == {"name": "playground-redis-acl", "files": ["redis-acl.sh"]}
    pod = k8s("Deployment", "redis")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["acl-script"]["configMap"]["name"] == "playground-redis-acl"
    assert volumes["passwords"]["secret"]["secretName"] == "playground-redis"
    (redis,) = pod["containers"]
    assert redis["command"] == ["sh", "/etc/playground/redis-acl.sh"]
    env = {e["name"]: e["value"] for e in redis["env"]}
    mounts = {m["name"]: m["mountPath"] for m in redis["volumeMounts"]}
    assert env["REDIS_APP_PASSWORD_FILE"] == mounts["passwords"] + "/app-password"
    assert env["REDIS_HOST_PASSWORD_FILE"] == mounts["passwords"] + "/host-password"
    # The worker host: user in the URL, the password from the Secret's file.
    host_pod = k8s("Deployment", "playground-worker-host")["spec"]["template"]["spec"]
    (host,) = host_pod["containers"]
    args = worker_host_args(host["command"])
    assert _user(args.redis) == ("playground-host", None)
    (secret,) = [v["secret"] for v in host_pod["volumes"] if "secret" in v]
    assert secret["secretName"] == "playground-redis"
    assert secret["items"] == [{"key": "host-password", "path": "host-password"}]
    assert args.redis_password_file == host["volumeMounts"][0]["mountPath"] + "/host-password"
    # The app: the password from the Secret, into its URL (kubelet expands $(NAME)).
    app = k8s("Deployment", "playground-app")["spec"]["template"]["spec"]["containers"][0]
    ref = next(e for e in app["env"] if e["name"] == "REDIS_APP_PASSWORD")
    assert ref["valueFrom"]["secretKeyRef"] == {"name": "playground-redis", "key": "app-password"}
    url = next(e["value"] for e in app["env"] if e["name"] == "PLAYGROUND_RUNNER_URL")
    assert _user(url) == ("playground-app", "$(REDIS_APP_PASSWORD)")


def test_redis_in_kubernetes_keeps_nothing() -> None:
    args = k8s("Deployment", "redis")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"


# -- the worker host's health probe -------------------------------------------------------------


def test_the_worker_host_probe_follows_its_heartbeat(tmp_path: Path) -> None:
    env = dict(os.environ, PLAYGROUND_STATE_DIR=str(tmp_path), PLAYGROUND_HOST_TTL_S="2")

    def probe() -> int:
        return subprocess.run([sys.executable, str(DEPLOY / "healthcheck.py"), "--worker-host"],
                              env=env, cwd=tmp_path, timeout=60).returncode

    assert probe() == 1  # no heartbeat yet
    beat = tmp_path / "worker-host.beat"
    beat.touch()
    assert probe() == 0
    old = time.time() - 7  # more than three TTLs ago
    os.utime(beat, (old, old))
    assert probe() == 1
