"""values.schema.json is strict and follows the CRD; the router's settings come from values."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import pytest

from chart.crd_schema import provider_spec_values_schema, values_schema_provider_spec
from chart.rendering import CHART, Rendering, chart, crd, pod_spec, render, render_ci


def _rejected(values: dict[str, Any]) -> str:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart().validate_schema(values)
    return str(caught.value)


def test_the_defaults_pass_the_schema() -> None:
    chart().validate_schema({})


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"routr": {}}, "routr"),
        ({"router": {"replicas": 2}}, "replicas"),
        ({"router": {"image": {"repo": "x"}}}, "repo"),
        ({"router": {"service": {"type": "External"}}}, "/router/service/type"),
        ({"router": {"logLevel": "loud"}}, "/router/logLevel"),
        ({"operator": {"logFormat": "xml"}}, "/operator/logFormat"),
        ({"global": {"imagePullPolicy": "Sometimes"}}, "/global/imagePullPolicy"),
        ({"ingress": {"hosts": [{"host": "a", "paths": [{"path": "x"}]}]}}, "/ingress/hosts/0"),
        ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "interval"),
        ({"otel": {"endpoint": "collector:4317"}}, "/otel/endpoint"),
        ({"router": {"image": {"digest": "latest"}}}, "/router/image/digest"),
        ({"providers": {"Bad_Name": {}}}, "Bad_Name"),
        ({"providers": {"espeak": {"spec": {"kindd": "local"}}}}, "kindd"),
        ({"providers": {"espeak": {"spec": {"image": "chorus-espeak"}}}}, "image"),
        ({"providers": {"espeak": {"spec": {"routing": {"priority": 5000}}}}}, "priority"),
        (
            {"providers": {"new": {"enabled": True, "image": {"repository": "x"}, "spec": {}}}},
            "kind",
        ),
    ],
)
def test_mistakes_are_refused_with_their_key(values: dict[str, Any], where: str) -> None:
    assert where in _rejected(values)


def test_provider_spec_schema_is_the_crds() -> None:
    """values.schema.json holds the CRD's spec schema; regenerate it when the CRD changes:
    `python tests/chart/crd_schema.py`."""
    values_schema = json.loads((CHART / "values.schema.json").read_text())
    assert values_schema_provider_spec(values_schema) == provider_spec_values_schema(crd()), (
        "values.schema.json is out of step with the CRD: run python tests/chart/crd_schema.py"
    )


def test_every_object_in_the_schema_is_closed() -> None:
    """Every object with named properties refuses unknown keys (typos fail at install)."""
    values_schema = json.loads((CHART / "values.schema.json").read_text())
    open_objects: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        if "properties" in node and node.get("additionalProperties") is not False:
            open_objects.append(path)
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")

    walk(values_schema, "")
    # Free-form Kubernetes env entries (name plus value or valueFrom) are the one exception.
    assert [p for p in open_objects if not p.endswith("extraEnv[]")] == []


def _router_env(rendering: Rendering) -> dict[str, Any]:
    (router,) = [c for c in pod_spec(rendering.named("Deployment", "chorus-router"))["containers"]]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in router["env"]}


def test_router_reads_providers_from_kubernetes_in_its_namespace() -> None:
    env = _router_env(render_ci("default"))
    assert env["CHORUS_ROUTER_REGISTRY_SOURCE"] == "kubernetes"
    assert env["CHORUS_ROUTER_KUBERNETES_NAMESPACE"] == "speech"
    assert env["CHORUS_ROUTER_HOST"] == "0.0.0.0"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


def test_router_database_from_a_secret() -> None:
    env = _router_env(render_ci("hardened-minimal"))
    assert env["CHORUS_ROUTER_DATABASE_URL"] == {
        "secretKeyRef": {"name": "chorus-database", "key": "url"}
    }


def test_several_routers_need_a_shared_database() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"router\.database"):
        render({"router": {"replicaCount": 2}})
    with pytest.raises(helm.HelmRenderError, match=r"router\.database"):
        render({"router": {"autoscaling": {"enabled": True}}})
    shared = {
        "database": {"url": "postgresql://db/chorus"},
        "artifacts": {"store": "s3", "s3": {"bucket": "chorus-audio", "region": "eu-west-1"}},
    }
    scaled = render({"router": {"replicaCount": 3, **shared}})
    assert scaled.named("Deployment", "chorus-router")["spec"]["replicas"] == 3


def test_autoscaled_router_leaves_replicas_to_the_hpa() -> None:
    rendering = render_ci("hardened-minimal")
    assert "replicas" not in rendering.named("Deployment", "chorus-router")["spec"]
    hpa = rendering.named("HorizontalPodAutoscaler", "chorus-router")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "chorus-router"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    pdb = rendering.named("PodDisruptionBudget", "chorus-router")
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "router"


def test_otel_reaches_router_and_operator() -> None:
    rendering = render_ci("monitoring-on")
    env = _router_env(rendering)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability.svc:4318"
    assert env["OTEL_SERVICE_NAME"] == "chorus-router"
    (operator,) = pod_spec(rendering.named("Deployment", "chorus-operator"))["containers"]
    names = {e["name"]: e["value"] for e in operator["env"]}
    # The operator hands its OTEL_* set on to every provider it runs.
    assert names["OTEL_TRACES_SAMPLER_ARG"] == "0.25"


def test_images_follow_registry_tag_and_digest() -> None:
    digest = "sha256:" + "a" * 64
    rendering = render(
        {
            "global": {"imageRegistry": "ghcr.io/acme", "imageTag": "1.2.3"},
            "router": {"image": {"digest": digest}},
            "providers": {"piper": {"image": {"registry": "mirror.local", "tag": "7"}}},
        }
    )
    (router,) = pod_spec(rendering.named("Deployment", "chorus-router"))["containers"]
    assert router["image"] == f"ghcr.io/acme/chorus-router@{digest}"
    (operator,) = pod_spec(rendering.named("Deployment", "chorus-operator"))["containers"]
    assert operator["image"] == "ghcr.io/acme/chorus-operator:1.2.3"
    assert rendering.named("TTSProvider", "piper")["spec"]["image"] == "mirror.local/chorus-piper:7"
    default = render_ci("default").named("TTSProvider", "espeak")["spec"]["image"]
    assert default == "chorus-espeak:0.1.0"  # the chart's appVersion


def test_skaffold_style_tag_with_digest_is_accepted() -> None:
    digest = "sha256:" + "b" * 64
    rendering = render(
        {
            "router": {
                "image": {"repository": "localhost:5000/chorus-router", "tag": f"abc123@{digest}"}
            }
        }
    )
    (router,) = pod_spec(rendering.named("Deployment", "chorus-router"))["containers"]
    assert router["image"] == f"localhost:5000/chorus-router:abc123@{digest}"


def test_persistence_uses_a_kept_claim() -> None:
    rendering = render_ci("cpu-only")
    claim = rendering.named("PersistentVolumeClaim", "chorus-router")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    volumes = {
        v["name"]: v for v in pod_spec(rendering.named("Deployment", "chorus-router"))["volumes"]
    }
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "chorus-router"


def test_api_keys_need_storage_that_outlives_the_pod() -> None:
    api_keys = {"security": {"mode": "api_key"}}
    with pytest.raises(helm.HelmRenderError, match=r"api_key.*router\.persistence\.enabled"):
        render({"router": api_keys})
    # Kept on a volume, or in PostgreSQL: accepted.
    render({"router": {**api_keys, "persistence": {"enabled": True}}})
    render({"router": {**api_keys, "database": {"existingSecret": "chorus-database"}}})
