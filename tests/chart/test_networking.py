"""Ingress to the router; NetworkPolicies that fit the pods the operator creates."""

from __future__ import annotations

from typing import Any

from chart.rendering import Rendering, render, render_ci
from chorus_operator import naming

ROUTER_POD = {
    "app.kubernetes.io/name": "chorus",
    "app.kubernetes.io/instance": "chorus",
    "app.kubernetes.io/component": "router",
}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    required: dict[str, str] = selector.get("matchLabels", {})
    return required.items() <= labels.items()


def _policy(rendering: Rendering, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = rendering.named("NetworkPolicy", name)["spec"]
    return spec


def test_ingress_sends_everything_to_the_router_service() -> None:
    ingress = render_ci("hardened-minimal").named("Ingress", "chorus-router")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [
        {"hosts": ["tts.example.com"], "secretName": "tts-example-com-tls"}
    ]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "chorus-router", "port": {"name": "http"}}
    assert "proxy-buffering" in str(ingress["metadata"]["annotations"])  # streaming audio


def test_ingress_can_be_switched_off() -> None:
    assert not render({"ingress": {"enabled": False}}).of_kind("Ingress")


def test_provider_policy_selects_every_provider_pod_the_operator_makes() -> None:
    policy = _policy(render_ci("default"), "chorus-providers")
    for kind in ("cloud", "local", "gpu"):
        assert _selects(policy["podSelector"], naming.child_labels("kokoro", kind))
    assert not _selects(policy["podSelector"], ROUTER_POD)


def test_providers_accept_only_the_router_and_the_scraper() -> None:
    policy = _policy(render_ci("monitoring-on"), "chorus-providers")
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    router, scraper = rule["from"]
    assert _selects(router["podSelector"], ROUTER_POD)
    assert "namespaceSelector" not in router  # the router of this namespace only
    assert scraper["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    assert scraper["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}


def test_only_cloud_providers_get_egress_to_443() -> None:
    rendering = render_ci("monitoring-on")
    base = _policy(rendering, "chorus-providers")
    assert "Egress" in base["policyTypes"]
    base_ports = {p["port"] for rule in base["egress"] for p in rule["ports"]}
    assert 443 not in base_ports
    assert base_ports == {53, 4318}  # DNS and the OTLP collector
    cloud = _policy(rendering, "chorus-cloud-egress")
    assert _selects(cloud["podSelector"], naming.child_labels("openai", "cloud"))
    assert not _selects(cloud["podSelector"], naming.child_labels("kokoro", "local"))
    assert not _selects(cloud["podSelector"], naming.child_labels("kokoro-gpu", "gpu"))
    (rule,) = cloud["egress"]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in rule["to"][0]["ipBlock"]["except"]


def test_router_policy_admits_the_ingress_controller_and_the_scraper() -> None:
    policy = _policy(render_ci("hardened-minimal"), "chorus-router")
    assert _selects(policy["podSelector"], ROUTER_POD)
    (rule,) = policy["ingress"]
    namespaces = [peer["namespaceSelector"].get("matchLabels") for peer in rule["from"]]
    assert {"kubernetes.io/metadata.name": "ingress-nginx"} in namespaces
    assert any("podSelector" in peer for peer in rule["from"])  # Prometheus


def test_router_is_open_to_the_cluster_by_default() -> None:
    (rule,) = _policy(render_ci("default"), "chorus-router")["ingress"]
    assert "from" not in rule


def test_policies_can_be_switched_off() -> None:
    assert not render({"networkPolicy": {"enabled": False}}).of_kind("NetworkPolicy")
