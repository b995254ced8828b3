"""The renderer: what each kind of provider gets in the cluster, valid for a current Kubernetes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from chorus_operator.provider import ProviderResource
from chorus_operator.render import Children, render

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))
FIXTURES = Path(__file__).parent / "fixtures"

OTEL = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4317",
    "OTEL_TRACES_SAMPLER": "always_on",
}
RESOURCES = [*EXAMPLES, *sorted((FIXTURES / "valid").glob("*.yaml"))]


def _from_file(path: Path) -> ProviderResource:
    """A resource file as the API server hands it to the operator (namespace, uid, generation)."""
    body = yaml.safe_load(path.read_text())
    body["metadata"] |= {"namespace": "voices", "uid": "0f6c-uid", "generation": 3}
    return ProviderResource.from_body(body)


def make_provider(**spec: Any) -> ProviderResource:
    body = {
        "metadata": {"name": "kokoro", "namespace": "voices", "uid": "uid-kokoro"},
        "spec": {"kind": "local", "image": "chorus-kokoro:0.1.0", "models": ["kokoro"], **spec},
    }
    return ProviderResource.from_body(body)


def _example(name: str) -> Children:
    return render(_from_file(Path(__file__).parents[1] / "examples" / name), OTEL)


def _pod(children: Children) -> dict[str, Any]:
    pod: dict[str, Any] = children.deployment["spec"]["template"]["spec"]
    return pod


def _env(children: Children) -> dict[str, Any]:
    return {var["name"]: var for var in _pod(children)["containers"][0]["env"]}


@pytest.mark.parametrize("path", RESOURCES, ids=lambda p: Path(p).name)
def test_every_child_passes_strict_kubernetes_validation(path: Path) -> None:
    children = render(_from_file(path), OTEL)
    objects = [children.deployment, children.service, children.autoscaler]
    for manifest in [*objects, children.disruption_budget]:
        if manifest is not None:
            kubernetes_validate.validate(
                manifest, kubernetes_validate.latest_version(), strict=True
            )


def test_children_are_named_labelled_and_owned_by_the_provider() -> None:
    children = _example("kokoro.yaml")
    for manifest in (children.deployment, children.service):
        meta = manifest["metadata"]
        assert meta["name"] == "chorus-provider-kokoro-scaled"
        assert meta["namespace"] == "voices"
        assert meta["labels"]["chorus.dev/provider"] == "kokoro-scaled"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "chorus-operator"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "chorus.dev/v1alpha1",
                "kind": "TTSProvider",
                "name": "kokoro-scaled",
                "uid": "0f6c-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    selector = children.deployment["spec"]["selector"]["matchLabels"]
    assert children.service["spec"]["selector"] == selector
    assert selector.items() <= children.deployment["spec"]["template"]["metadata"]["labels"].items()
    assert children.service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]


def test_pods_are_hardened_by_default() -> None:
    pod = _pod(_example("kokoro.yaml"))
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}} in pod["volumes"]


def test_probes_follow_the_provider_contract() -> None:
    (container,) = _pod(_example("kokoro.yaml"))["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    startup = container["startupProbe"]
    # Model loading gets minutes before the kubelet gives up on it.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600


def test_gpu_providers_get_a_gpu_its_toleration_and_gpu_nodes() -> None:
    children = _example("kokoro-gpu.yaml")
    pod = _pod(children)
    resources = pod["containers"][0]["resources"]
    assert resources["limits"] == {"memory": "4Gi", "nvidia.com/gpu": "1"}
    assert resources["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert "nodeSelector" not in pod  # placed by the GPU limit, no discovery label needed
    assert pod["runtimeClassName"] == "nvidia"
    # No surge pod waiting for a GPU that is not free.
    assert children.deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0


def test_gpu_choices_of_the_user_are_kept() -> None:
    pod = _pod(render(_from_file(FIXTURES / "valid" / "gpu-own-limit-and-nodes.yaml"), {}))
    assert pod["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": "2", "memory": "8Gi"}}
    assert pod["nodeSelector"] == {"node.kubernetes.io/instance-type": "g5.2xlarge"}
    assert len(pod["tolerations"]) == 1
    assert pod["runtimeClassName"] == "nvidia"


def test_cpu_providers_get_no_gpu_and_no_gpu_scheduling() -> None:
    pod = _pod(render(make_provider(), {}))
    assert pod["containers"][0]["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}}
    assert "nodeSelector" not in pod
    assert "tolerations" not in pod


def test_cloud_api_key_comes_from_its_secret_only() -> None:
    children = _example("openai.yaml")
    assert _env(children)["CHORUS_OPENAI_API_KEY"] == {
        "name": "CHORUS_OPENAI_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "openai-api-key", "key": "api-key"}},
    }
    assert children.deployment["spec"]["replicas"] == 2
    assert children.disruption_budget is not None
    assert children.disruption_budget["spec"]["minAvailable"] == 1
    assert children.autoscaler is None


def test_otel_settings_pass_through_and_spec_env_wins() -> None:
    provider = make_provider(
        env=[
            {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_always_off"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ]
    )
    env = _env(render(provider, OTEL))
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector:4317"
    assert env["OTEL_SERVICE_NAME"]["value"] == "chorus-provider-kokoro"
    assert env["OTEL_TRACES_SAMPLER"]["value"] == "parentbased_always_off"
    assert env["POD_IP"] == {
        "name": "POD_IP",
        "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
    }


def test_autoscaled_providers_leave_the_replica_count_to_the_autoscaler() -> None:
    children = _example("kokoro.yaml")
    assert "replicas" not in children.deployment["spec"]
    assert children.autoscaler is not None
    spec = children.autoscaler["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "chorus-provider-kokoro-scaled",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)
    # The speech queue first; the example asks for CPU as well.
    queued, cpu = spec["metrics"]
    assert queued["pods"]["metric"]["name"] == "chorus_provider_queued_requests"
    assert cpu["resource"]["target"]["averageUtilization"] == 70
    assert children.disruption_budget is not None
    assert children.disruption_budget["spec"]["maxUnavailable"] == 1


def test_a_disabled_provider_scales_to_zero_and_keeps_only_deployment_and_service() -> None:
    children = render(
        make_provider(
            enabled=False, autoscaling={"maxReplicas": 3}, disruptionBudget={"minAvailable": 1}
        ),
        {},
    )
    assert children.deployment["spec"]["replicas"] == 0
    assert children.autoscaler is None
    assert children.disruption_budget is None
    assert children.service["spec"]["ports"][0]["port"] == 8080


def test_without_replicas_or_autoscaling_one_replica_runs() -> None:
    assert render(make_provider(), {}).deployment["spec"]["replicas"] == 1


def test_rendering_is_pure() -> None:
    provider = _from_file(EXAMPLES[0])
    before = copy.deepcopy(provider.spec.model_dump())
    first, second = render(provider, OTEL), render(provider, dict(OTEL))
    assert json.dumps(first.__dict__, sort_keys=True) == json.dumps(second.__dict__, sort_keys=True)
    assert provider.spec.model_dump() == before


def test_pods_drain_for_the_longest_stream_the_router_waits_for() -> None:
    provider = _example("openai.yaml")  # routing.requestTimeoutS: 60
    pod = _pod(provider)
    container = pod["containers"][0]
    assert container["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}
    env = {var["name"]: var.get("value") for var in container["env"]}
    assert env["CHORUS_DRAIN_TIMEOUT_S"] == "60"
    # preStop sleep, then the drain, then a margin to exit, before the kubelet kills it.
    assert pod["terminationGracePeriodSeconds"] == 5 + 60 + 5


def test_weights_on_a_pvc_are_mounted_read_only_where_the_provider_looks() -> None:
    pod = _pod(render(_from_file(FIXTURES / "valid" / "gpu-model-on-a-pvc.yaml"), OTEL))
    (container,) = pod["containers"]
    assert {
        "name": "model",
        "persistentVolumeClaim": {"claimName": "tts-weights", "readOnly": True},
    } in pod["volumes"]
    assert {
        "name": "model",
        "mountPath": "/models",
        "readOnly": True,
        "subPath": "dia/Dia-1.6B-0626",
    } in container["volumeMounts"]
    env = {var["name"]: var["value"] for var in container["env"] if "value" in var}
    assert env["CHORUS_MODEL_PATH"] == "/models"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert "initContainers" not in pod


def test_a_hugging_face_revision_is_fetched_first_and_served_offline() -> None:
    pod = _pod(render(_from_file(FIXTURES / "valid" / "gpu-model-from-hugging-face.yaml"), OTEL))
    (fetcher,) = pod["initContainers"]
    (container,) = pod["containers"]
    assert fetcher["image"] == container["image"]  # the provider's image has the fetcher
    assert fetcher["command"] == [
        "python",
        "-m",
        "chorus_torch.fetch",
        "--dest",
        "/models",
        "nari-labs/Dia-1.6B-0626@0123456789abcdef0123456789abcdef01234567",
        "descript/dac_44khz@main:codec",
    ]
    assert fetcher["securityContext"] == container["securityContext"]
    token = {"secretKeyRef": {"name": "hf-token", "key": "token"}}
    assert {"name": "HF_TOKEN", "valueFrom": token} in fetcher["env"]
    assert {"name": "model", "emptyDir": {"sizeLimit": "40Gi"}} in pod["volumes"]
    assert {"name": "model", "mountPath": "/models"} in fetcher["volumeMounts"]
    # The serving container reads the weights, offline, and never sees the token.
    assert {"name": "model", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]
    env = {var["name"]: var.get("value") for var in container["env"]}
    assert (env["CHORUS_MODEL_PATH"], env["HF_HUB_OFFLINE"]) == ("/models", "1")
    assert "HF_TOKEN" not in env


def test_weights_inside_the_image_add_nothing_to_the_pod() -> None:
    pod = _pod(_example("kokoro-gpu.yaml"))
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp"]
    assert "initContainers" not in pod
    assert "CHORUS_MODEL_PATH" not in {var["name"] for var in pod["containers"][0]["env"]}
