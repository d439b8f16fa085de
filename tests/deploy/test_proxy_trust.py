"""The shipped deployments key per-client limits by the visitor: the app trusts exactly the
proxy in front of it, the proxy names the visitor, and nothing else reaches the app.
(tests/browser/test_proxy_clients.py runs the real HAProxy config in front of the real app.)"""

from __future__ import annotations

import ipaddress

from app.client_address import parse_networks
from tests.deploy.test_cluster_manifests import DEPLOY, SERVICES, k8s


def _env(container: dict[str, object]) -> dict[str, str]:
    """The plain values (entries taken from a Secret have none here)."""
    return {e["name"]: e["value"] for e in container["env"]  # type: ignore[index, union-attr]
            if "value" in e}  # type: ignore[operator]


def test_compose_app_trusts_exactly_the_proxy_and_publishes_no_port() -> None:
    proxy = SERVICES["proxy"]["networks"]["default"]["ipv4_address"]
    trusted = parse_networks(SERVICES["app"]["environment"]["PLAYGROUND_TRUSTED_PROXIES"])
    assert [str(n) for n in trusted] == [f"{proxy}/32"]
    assert "ports" not in SERVICES["app"]


def test_haproxy_drops_a_forged_header_then_names_the_visitor() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    frontend = config.split("frontend web", 1)[1].split("\nbackend", 1)[0]
    assert frontend.index("http-request del-header X-Forwarded-For") \
        < frontend.index("option forwardfor")


def test_kubernetes_app_trusts_the_pod_network_and_admits_only_the_ingress() -> None:
    (container,) = k8s("Deployment", "playground-app")["spec"]["template"]["spec"]["containers"]
    trusted = parse_networks(_env(container)["PLAYGROUND_TRUSTED_PROXIES"])
    assert all(n.is_private for n in trusted)
    assert ipaddress.ip_address("10.244.1.7") in trusted[0]  # a typical pod address
    policy = k8s("NetworkPolicy", "playground-app-from-ingress")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"namespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
