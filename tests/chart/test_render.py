"""Every value set renders, lints clean, and every document is one the API server accepts."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from chart.crd_schema import resource_errors
from chart.rendering import (
    CHART,
    NAMESPACE,
    Rendering,
    ci_values,
    crd,
    pod_spec,
    render,
    value_sets,
)

# Kinds whose schemas come from their CRDs, not from Kubernetes itself.
CUSTOM_KINDS = {"TTSProvider", "ServiceMonitor", "PrometheusRule"}


def _kube_versions() -> list[str]:
    """The oldest Kubernetes the chart claims (Chart.yaml kubeVersion) and the newest known."""
    floor = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    oldest = floor.removeprefix(">=").removesuffix("-0")
    return [oldest, latest_version()]


def test_the_issue_value_sets_are_all_there() -> None:
    expected = {"default", "cpu-only", "gpu", "cloud-only", "monitoring-on", "hardened-minimal"}
    assert expected <= set(value_sets())


def test_chart_metadata() -> None:
    metadata = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert metadata["apiVersion"] == "v2"
    assert metadata["kubeVersion"].startswith(">=1.29")  # CRD validation rules (CEL) are GA
    assert (CHART / "crds" / "ttsproviders.chorus.dev.yaml").is_file()


@pytest.mark.parametrize("name", value_sets())
def test_lint_finds_no_warning(name: str) -> None:
    report = helm.lint(CHART, ci_values(name), strict=True, namespace=NAMESPACE)
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"], report["errors"]
    assert not serious, serious


def test_every_document_validates_strictly(rendering: Rendering) -> None:
    problems = []
    for doc in rendering.documents:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        for version in _kube_versions():
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(
                    f"{doc['kind']}/{doc['metadata']['name']} @{version}: {exc.message}"
                )
    assert not problems, "\n".join(problems)


def test_every_document_is_namespaced_and_labelled(rendering: Rendering) -> None:
    for doc in rendering.documents:
        metadata = doc["metadata"]
        assert metadata["namespace"] == NAMESPACE, doc["kind"]
        labels = metadata["labels"]
        assert labels["app.kubernetes.io/instance"] == "chorus"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "chorus"
        assert "app.kubernetes.io/component" in labels


def test_names_are_unique_per_kind(rendering: Rendering) -> None:
    keys = [(doc["kind"], doc["metadata"]["name"]) for doc in rendering.documents]
    assert len(keys) == len(set(keys))


def test_rendered_providers_pass_the_crd(rendering: Rendering) -> None:
    definition = crd()
    for provider in rendering.of_kind("TTSProvider"):
        assert provider["apiVersion"] == "chorus.dev/v1alpha1"
        errors = resource_errors(definition, provider)
        assert not errors, f"{provider['metadata']['name']}: {errors}"


def test_crd_check_would_catch_a_bad_provider() -> None:
    """The CRD check itself bites: unknown fields (pruned by the API server) and CEL rules."""
    provider: dict[str, Any] = {
        "apiVersion": "chorus.dev/v1alpha1",
        "kind": "TTSProvider",
        "metadata": {"name": "bad"},
        "spec": {"kind": "cloud", "image": "x", "models": ["m"], "replica": 2},
    }
    errors = resource_errors(crd(), provider)
    assert any("replica" in e for e in errors)
    assert any("credentials" in e for e in errors)


def test_selectors_match_their_pod_templates(rendering: Rendering) -> None:
    for workload in rendering.workloads():
        selector = workload["spec"]["selector"]["matchLabels"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert "app.kubernetes.io/version" not in selector  # selectors are immutable


def test_services_route_to_named_container_ports(rendering: Rendering) -> None:
    deployments = rendering.of_kind("Deployment")
    for service in rendering.of_kind("Service"):
        selector = service["spec"]["selector"].items()
        (target,) = [
            d
            for d in deployments
            if selector <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        port_names = {
            p["name"] for c in target["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_notes_tell_how_to_call_the_api(rendering: Rendering) -> None:
    assert "/audio/speech" in rendering.notes
    assert "CHORUS_URL" in rendering.notes


def test_render_is_deterministic() -> None:
    assert render({}).documents == render({}).documents


def test_optional_kinds_follow_values_not_cluster_capabilities() -> None:
    """`helm template` and `helm install` render the same objects on any cluster."""
    for template in (CHART / "templates").rglob("*"):
        if template.is_file():
            text = template.read_text()
            assert ".Capabilities" not in text, template
            assert "lookup" not in text, template


def test_the_router_lets_streams_finish_on_rollouts() -> None:
    rendering = render({"router": {"terminationGracePeriodSeconds": 300}})
    pod = pod_spec(rendering.named("Deployment", "chorus-router"))
    (container,) = pod["containers"]
    assert pod["terminationGracePeriodSeconds"] == 300
    assert container["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}
    env = {var["name"]: var.get("value") for var in container["env"]}
    # The kubelet's budget, as the operator sizes a provider's: preStop sleep, the drain
    # (new requests 503, those in flight finish), then 5 s to exit.
    assert 5 + int(env["CHORUS_ROUTER_SHUTDOWN_TIMEOUT_S"]) + 5 == 300
