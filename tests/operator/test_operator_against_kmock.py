"""The real operator (`kopf run --standalone`) against kmock's emulated Kubernetes API on
127.0.0.1: what `kubectl` would show after `kubectl apply`.

The API and the operator live for the whole module (kopf's start-up is the slow part); each
test works on TTSProviders of its own names.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import kmock
import kubernetes_validate
import pytest
import pytest_asyncio
import yaml

from support.kube_api import APPLY_PATCH, ApplyingEmulator
from support.otlp_receiver import OtlpReceiver
from support.processes import free_port
from support.rbac import granted, requested

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

NAMESPACE = "voices"
TOKEN = "operator-test-token"
REGISTRY = "registry.example/chorus"
PROVIDERS = "chorus.dev/v1alpha1/ttsproviders"
DEPLOYMENTS = "apps/v1/deployments"
SERVICES = "v1/services"
AUTOSCALERS = "autoscaling/v2/horizontalpodautoscalers"
BUDGETS = "policy/v1/poddisruptionbudgets"
# KEDA's, as a cluster with KEDA installed serves it.
SCALED_OBJECTS = "keda.sh/v1alpha1/scaledobjects"
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete"}


def _info(kind: str, *, namespaced: bool = True, status: bool = False) -> kmock.ResourceInfo:
    subresources = {"status"} if status else set()
    return kmock.ResourceInfo(
        kind=kind,
        singular=kind.lower(),
        namespaced=namespaced,
        verbs=VERBS,
        subresources=subresources,
    )


RESOURCES = {
    PROVIDERS: _info("TTSProvider", status=True),
    DEPLOYMENTS: _info("Deployment", status=True),
    SERVICES: _info("Service"),
    AUTOSCALERS: _info("HorizontalPodAutoscaler"),
    BUDGETS: _info("PodDisruptionBudget"),
    SCALED_OBJECTS: _info("ScaledObject"),
    "v1/events": _info("Event"),
    # Discovered by kopf at start-up in every real cluster, though this operator never reads them.
    "v1/namespaces": _info("Namespace", namespaced=False),
    "apiextensions.k8s.io/v1/customresourcedefinitions": _info(
        "CustomResourceDefinition", namespaced=False
    ),
}


async def eventually(
    check: Callable[[], Any], timeout_s: float = 15.0, what: str = "condition"
) -> Any:
    """Poll `check()` until it returns something truthy; the loop keeps serving meanwhile."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Cluster:
    """The emulated API server, with the calls a test (or kubectl) would make."""

    api: ApplyingEmulator

    def get(self, resource: str, name: str) -> dict[str, Any] | None:
        key = (kmock.resource(resource), NAMESPACE, name)
        if key not in self.api.objects or self.api.objects[key].deleted:
            return None
        raw: dict[str, Any] = self.api.objects[key].raw
        return raw

    async def apply(self, resource: dict[str, Any], uid: str) -> None:
        """Create a TTSProvider as the API server stores it (with uid and generation)."""
        body = {**resource, "metadata": {**resource["metadata"], "namespace": NAMESPACE}}
        body["metadata"] |= {"uid": uid, "generation": 1}
        await self._send("POST", _path(PROVIDERS), body)

    async def patch(
        self, resource: str, name: str, patch: dict[str, Any], sub: str = "", manager: str = ""
    ) -> None:
        """A merge patch, as `kubectl edit` or `kubectl scale` sends one (as `manager`)."""
        query = f"?fieldManager={manager}" if manager else ""
        await self._send("PATCH", f"{_path(resource)}/{name}{sub}{query}", patch)

    def versions(self, resource: str, name: str) -> int:
        """How many times the object changed (an apply that changes nothing adds none)."""
        return len(self.api.objects[kmock.resource(resource), NAMESPACE, name].history)

    async def delete(self, resource: str, name: str) -> None:
        await self._send("DELETE", f"{_path(resource)}/{name}")

    def writes(self, name: str) -> list[str]:
        """Every create, patch or delete of a child named `name` so far."""
        kinds = (DEPLOYMENTS, SERVICES, AUTOSCALERS, BUDGETS, SCALED_OBJECTS)
        children = {r.rsplit("/", 1)[1] for r in kinds}
        return [
            f"{request.method} {request.url.path}"
            for request in self.api
            if request.method in ("POST", "PUT", "PATCH", "DELETE")
            and request.resource is not None
            and request.resource.plural in children
            and (name == request.name or name == _created_name(request))
        ]

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
        async with self.api.request(method, path, json=body, headers=headers) as response:
            assert response.status < 300, await response.text()


def _path(resource: str) -> str:
    group_version, plural = resource.rsplit("/", 1)
    root = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    return f"{root}/namespaces/{NAMESPACE}/{plural}"


def _created_name(request: kmock.Request) -> str | None:
    data = request.data if isinstance(request.data, dict) else {}
    name: str | None = data.get("metadata", {}).get("name")
    return name


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    async with ApplyingEmulator() as api, kmock.Server(api):
        for resource, info in RESOURCES.items():
            api.resources[resource] = info
        yield Cluster(api)


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpReceiver]:
    """Where the operator exports its spans (and tells its providers to)."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def operator_process(
    cluster: Cluster, collector: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Path]:
    """`kopf run --standalone` as the chart runs it, logged in through a kubeconfig."""
    workdir = tmp_path_factory.mktemp("operator")
    kubeconfig = workdir / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(_kubeconfig(str(cluster.api.url).rstrip("/"))))
    log_path = workdir / "operator.log"
    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBE", "OTEL_", "CHORUS_OPERATOR_"))
    }
    env |= {
        "KUBECONFIG": str(kubeconfig),
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "chorus-operator",
        "CHORUS_OPERATOR_IMAGE_REGISTRY": REGISTRY,
        "CHORUS_OPERATOR_IMAGE_TAG": "0.1.0",
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "kopf", "run", "--standalone", "--verbose"),
            *(
                f"--namespace={NAMESPACE}",
                f"--liveness={liveness}",
                "-m",
                "chorus_operator.handlers",
            ),
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _wait_alive(process, liveness, log_path)
        yield log_path
    finally:
        await _stop(process)


def _kubeconfig(server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "operator", "user": {"token": TOKEN}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "operator"}}],
        "current-context": "kmock",
    }


async def _wait_alive(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    deadline = time.monotonic() + 45
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"the operator exited:\n{_tail(log)}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the operator never answered {url}:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


EXAMPLES = Path(__file__).resolve().parents[2] / "operator" / "examples"
AVAILABLE = {
    "replicas": 1,
    "readyReplicas": 1,
    "availableReplicas": 1,
    "conditions": [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
    ],
}


def _example(name: str, rename: str) -> dict[str, Any]:
    resource: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    resource["metadata"]["name"] = rename
    return resource


def _ready(cluster: Cluster, name: str) -> dict[str, Any] | None:
    provider = cluster.get(PROVIDERS, name) or {}
    conditions: list[dict[str, Any]] = provider.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "Ready"), None)


async def test_a_gpu_provider_gets_an_owned_deployment_on_gpus_and_a_service(
    cluster: Cluster, collector: OtlpReceiver, operator_process: Path
) -> None:
    await cluster.apply(_example("kokoro-gpu.yaml", "gpu-a"), uid="uid-gpu-a")
    child = "chorus-provider-gpu-a"
    deployment = await eventually(lambda: cluster.get(DEPLOYMENTS, child))
    service = await eventually(lambda: cluster.get(SERVICES, child))

    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # The example's bare image, completed as the chart completes its own.
    assert pod["containers"][0]["image"] == f"{REGISTRY}/chorus-kokoro-gpu:0.1.0"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    # Placed by the GPU limit alone, as NVIDIA's device plugin expects: no GPU discovery labels.
    assert "nodeSelector" not in pod
    assert pod["runtimeClassName"] == "nvidia"
    env = {var["name"]: var.get("value") for var in pod["containers"][0]["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector.endpoint
    assert env["OTEL_SERVICE_NAME"] == "chorus-provider-gpu-a"
    for manifest in (deployment, service):
        (owner,) = manifest["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == ("TTSProvider", "gpu-a", "uid-gpu-a")
    assert service["spec"]["ports"][0]["port"] == 8080
    # Deleting the resource must never wait for the operator: no finalizer on it.
    assert not (cluster.get(PROVIDERS, "gpu-a") or {})["metadata"].get("finalizers")
    # Applied server-side as chorus-operator, with the credentials of its login.
    applies = [r for r in cluster.api if r.method == "PATCH" and r.name == child]
    assert {r.headers.get("Content-Type") for r in applies} == {APPLY_PATCH}
    assert {(r.params["fieldManager"], r.params["force"]) for r in applies} == {
        ("chorus-operator", "true")
    }
    assert {r.headers.get("Authorization") for r in applies} == {f"Bearer {TOKEN}"}


async def test_a_gpu_provider_fetches_its_weights_first_and_serves_them_offline(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("dia.yaml", "dia-a"), uid="uid-dia-a")
    deployment = await eventually(lambda: cluster.get(DEPLOYMENTS, "chorus-provider-dia-a"))
    kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
    pod = deployment["spec"]["template"]["spec"]
    (fetcher,) = pod["initContainers"]
    (container,) = pod["containers"]
    assert fetcher["image"] == container["image"] == f"{REGISTRY}/chorus-dia:0.1.0"
    assert fetcher["command"][:5] == ["python", "-m", "chorus_torch.fetch", "--dest", "/models"]
    assert "nari-labs/Dia-1.6B-0626@main" in fetcher["command"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    env = {var["name"]: var.get("value") for var in container["env"]}
    assert (env["CHORUS_MODEL_PATH"], env["HF_HUB_OFFLINE"]) == ("/models", "1")
    assert {"name": "model", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]


async def test_an_available_deployment_turns_the_provider_ready_with_its_url(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("kokoro-gpu.yaml", "gpu-b"), uid="uid-gpu-b")
    await eventually(lambda: cluster.get(DEPLOYMENTS, "chorus-provider-gpu-b"))
    not_ready = await eventually(lambda: _ready(cluster, "gpu-b"), what="a Ready condition")
    assert not_ready["status"] == "False"

    await cluster.patch(DEPLOYMENTS, "chorus-provider-gpu-b", {"status": AVAILABLE}, "/status")

    def ready() -> bool:
        condition = _ready(cluster, "gpu-b") or {}
        return condition.get("status") == "True"

    await eventually(ready, what="Ready=True")
    status = (cluster.get(PROVIDERS, "gpu-b") or {})["status"]
    assert status["url"] == "http://chorus-provider-gpu-b.voices.svc.cluster.local:8080"
    assert (status["phase"], status["readyReplicas"], status["observedGeneration"]) == (
        "Ready",
        1,
        1,
    )


async def test_a_runtime_provider_runs_its_engine_beside_chorus_openai_and_turns_ready(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("qwen3-tts-customvoice.yaml", "omni-a"), uid="uid-omni-a")
    child = "chorus-provider-omni-a"
    deployment = await eventually(lambda: cluster.get(DEPLOYMENTS, child))
    kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
    pod = deployment["spec"]["template"]["spec"]
    fetcher, engine = pod["initContainers"]
    (front,) = pod["containers"]
    # The engine's image is used as written; chorus-openai's is completed like the chart's.
    assert fetcher["image"] == engine["image"] == "vllm/vllm-omni:latest"
    assert front["image"] == f"{REGISTRY}/chorus-openai:0.1.0"
    assert engine["restartPolicy"] == "Always"
    assert engine["startupProbe"]["httpGet"] == {"path": "/health", "port": "engine"}
    assert engine["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"name": "model", "mountPath": "/models", "readOnly": True} in engine["volumeMounts"]
    env = {var["name"]: var.get("value") for var in front["env"]}
    assert env["CHORUS_OPENAI_BASE_URL"] == "http://127.0.0.1:8000/v1"
    # Scaled on the speech queue, not CPU.
    autoscaler = await eventually(lambda: cluster.get(AUTOSCALERS, child))
    names = [m["pods"]["metric"]["name"] for m in autoscaler["spec"]["metrics"]]
    assert names == ["chorus_provider_queued_requests", "chorus_provider_in_flight_requests"]
    assert cluster.get(SCALED_OBJECTS, child) is None

    await cluster.patch(DEPLOYMENTS, child, {"status": AVAILABLE}, "/status")
    await eventually(lambda: (_ready(cluster, "omni-a") or {}).get("status") == "True")
    status = (cluster.get(PROVIDERS, "omni-a") or {})["status"]
    assert status["url"] == "http://chorus-provider-omni-a.voices.svc.cluster.local:8080"


async def test_a_provider_that_scales_to_zero_gets_keda_and_is_idle_at_zero(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("qwen3-tts-base.yaml", "omni-z"), uid="uid-omni-z")
    child = "chorus-provider-omni-z"
    scaled = await eventually(lambda: cluster.get(SCALED_OBJECTS, child))
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 2)
    assert scaled["spec"]["scaleTargetRef"]["name"] == child
    (owner,) = scaled["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("TTSProvider", "uid-omni-z")
    queries = " ".join(t["metadata"]["query"] for t in scaled["spec"]["triggers"])
    assert 'tts_cold_start_waiting_requests{provider="omni-z"}' in queries
    assert cluster.get(AUTOSCALERS, child) is None

    # KEDA took it to zero while idle: not a failure, and not Ready.
    await cluster.patch(DEPLOYMENTS, child, {"spec": {"replicas": 0}}, manager="keda")
    await cluster.patch(DEPLOYMENTS, child, {"status": {"replicas": 0}}, "/status")
    await eventually(
        lambda: (cluster.get(PROVIDERS, "omni-z") or {}).get("status", {}).get("phase") == "Idle",
        what="phase Idle",
    )
    assert (_ready(cluster, "omni-z") or {})["reason"] == "ScaledToZero"


async def test_disabling_scales_to_zero_and_takes_the_provider_out_of_ready(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("kokoro.yaml", "local-c"), uid="uid-local-c")
    await eventually(lambda: cluster.get(AUTOSCALERS, "chorus-provider-local-c"))
    await eventually(lambda: cluster.get(BUDGETS, "chorus-provider-local-c"))
    await cluster.patch(DEPLOYMENTS, "chorus-provider-local-c", {"status": AVAILABLE}, "/status")
    await eventually(lambda: (_ready(cluster, "local-c") or {}).get("status") == "True")

    await cluster.patch(
        PROVIDERS, "local-c", {"metadata": {"generation": 2}, "spec": {"enabled": False}}
    )

    def scaled_to_zero() -> bool:
        deployment = cluster.get(DEPLOYMENTS, "chorus-provider-local-c") or {}
        return bool(deployment.get("spec", {}).get("replicas") == 0)

    await eventually(scaled_to_zero, what="replicas: 0")
    await eventually(lambda: (_ready(cluster, "local-c") or {}).get("reason") == "Disabled")
    assert (_ready(cluster, "local-c") or {})["status"] == "False"
    # An autoscaler would scale it back up; a budget would guard pods that no longer exist.
    await eventually(lambda: cluster.get(AUTOSCALERS, "chorus-provider-local-c") is None)
    await eventually(lambda: cluster.get(BUDGETS, "chorus-provider-local-c") is None)
    await eventually(
        lambda: (cluster.get(PROVIDERS, "local-c") or {})["status"].get("observedGeneration") == 2
    )


async def test_a_deployment_deleted_by_hand_comes_back(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("kokoro-gpu.yaml", "gpu-f"), uid="uid-gpu-f")
    first = await eventually(lambda: cluster.get(DEPLOYMENTS, "chorus-provider-gpu-f"))

    await cluster.delete(DEPLOYMENTS, "chorus-provider-gpu-f")

    again = await eventually(lambda: cluster.get(DEPLOYMENTS, "chorus-provider-gpu-f"))
    assert again["spec"] == first["spec"]


async def test_reconciling_again_changes_nothing(cluster: Cluster, operator_process: Path) -> None:
    await cluster.apply(_example("openai.yaml", "cloud-d"), uid="uid-cloud-d")
    child = "chorus-provider-cloud-d"
    await eventually(lambda: cluster.get(BUDGETS, child))
    await eventually(lambda: (cluster.get(PROVIDERS, "cloud-d") or {}).get("status", {}).get("url"))
    kinds = (DEPLOYMENTS, SERVICES, BUDGETS)
    before = {kind: cluster.versions(kind, child) for kind in kinds}
    applies = len(cluster.writes(child))

    # A label change is an update: kopf runs the same reconcile again.
    await cluster.patch(PROVIDERS, "cloud-d", {"metadata": {"labels": {"team": "voice"}}})

    def handled() -> bool:
        annotations = (cluster.get(PROVIDERS, "cloud-d") or {})["metadata"].get("annotations", {})
        return "voice" in annotations.get("chorus.dev/last-handled-configuration", "")

    await eventually(handled, what="the update to be handled")
    await eventually(lambda: len(cluster.writes(child)) >= applies + 3, what="applied again")
    # Each child was applied again, and the API server found nothing to change.
    assert {kind: cluster.versions(kind, child) for kind in kinds} == before


async def test_hand_edits_of_rendered_fields_are_taken_back(
    cluster: Cluster, operator_process: Path
) -> None:
    await cluster.apply(_example("openai.yaml", "cloud-g"), uid="uid-cloud-g")
    child = "chorus-provider-cloud-g"
    await eventually(lambda: cluster.get(BUDGETS, child))
    await eventually(lambda: _ready(cluster, "cloud-g"), what="the first reconcile done")
    rendered = cluster.get(DEPLOYMENTS, child) or {}
    image = rendered["spec"]["template"]["spec"]["containers"][0]["image"]
    applies = len(cluster.writes(child))

    # kubectl scale / kubectl edit: merge patches under their own field managers.
    await cluster.patch(DEPLOYMENTS, child, {"spec": {"replicas": 7}}, manager="kubectl-scale")
    edited = {"metadata": {"annotations": {"team": "voice"}}, "spec": {"type": "NodePort"}}
    await cluster.patch(SERVICES, child, edited, manager="kubectl-edit")

    def replicas() -> Any:
        return (cluster.get(DEPLOYMENTS, child) or {})["spec"].get("replicas")

    await eventually(lambda: replicas() == 2, what="the replica count applied again")
    assert len(cluster.writes(child)) > applies + 2  # two hand edits, then the operator's
    await eventually(
        lambda: (cluster.get(SERVICES, child) or {})["spec"]["type"] == "ClusterIP",
        what="the Service type applied again",
    )
    service = cluster.get(SERVICES, child) or {}
    assert service["metadata"]["annotations"] == {"team": "voice"}  # not the operator's field
    container = (cluster.get(DEPLOYMENTS, child) or {})["spec"]["template"]["spec"]["containers"]
    assert container[0]["image"] == image
    owners = cluster.api.managers(SERVICES, NAMESPACE, child)
    assert ("spec", "type") in owners["chorus-operator"]
    assert ("spec", "type") not in owners.get("kubectl-edit", set())


async def test_an_autoscaled_replica_count_is_left_to_the_autoscaler(
    cluster: Cluster, operator_process: Path
) -> None:
    fixed = _example("openai.yaml", "cloud-h")
    await cluster.apply(fixed, uid="uid-cloud-h")
    child = "chorus-provider-cloud-h"
    await eventually(
        lambda: (cluster.get(DEPLOYMENTS, child) or {}).get("spec", {}).get("replicas")
    )

    # From a fixed count to an autoscaler: the count stays until the autoscaler changes it.
    spec = {"replicas": None, "autoscaling": {"minReplicas": 2, "maxReplicas": 5}}
    await cluster.patch(PROVIDERS, "cloud-h", {"metadata": {"generation": 2}, "spec": spec})
    await eventually(lambda: cluster.get(AUTOSCALERS, child), what="the autoscaler")
    assert (cluster.get(DEPLOYMENTS, child) or {})["spec"]["replicas"] == 2
    owners = cluster.api.managers(DEPLOYMENTS, NAMESPACE, child)
    assert ("spec", "replicas") not in owners["chorus-operator"]

    # The autoscaler scales; the operator sees the change and leaves it.
    await cluster.patch(
        DEPLOYMENTS, child, {"spec": {"replicas": 4}}, manager="kube-controller-manager"
    )
    await cluster.patch(DEPLOYMENTS, child, {"status": AVAILABLE}, "/status")
    await eventually(lambda: (_ready(cluster, "cloud-h") or {}).get("status") == "True")
    assert (cluster.get(DEPLOYMENTS, child) or {})["spec"]["replicas"] == 4


async def test_fields_no_longer_rendered_are_removed(
    cluster: Cluster, operator_process: Path
) -> None:
    resource = _example("kokoro-gpu.yaml", "gpu-i")
    resource["spec"]["nodeSelector"] = {"pool": "tts"}
    await cluster.apply(resource, uid="uid-gpu-i")
    child = "chorus-provider-gpu-i"

    def pod() -> dict[str, Any]:
        spec: dict[str, Any] = (cluster.get(DEPLOYMENTS, child) or {}).get("spec", {})
        return spec.get("template", {}).get("spec", {})

    await eventually(lambda: pod().get("nodeSelector") == {"pool": "tts"})
    await cluster.patch(
        PROVIDERS, "gpu-i", {"metadata": {"generation": 2}, "spec": {"nodeSelector": None}}
    )
    await eventually(lambda: "nodeSelector" not in pod(), what="the node selector removed")


async def test_an_invalid_resource_is_reported_not_rendered(
    cluster: Cluster, operator_process: Path
) -> None:
    resource = _example("openai.yaml", "cloud-e")
    del resource["spec"]["credentials"]
    await cluster.apply(resource, uid="uid-cloud-e")
    condition = await eventually(lambda: _ready(cluster, "cloud-e"), what="a Ready condition")
    assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")
    assert "credentials" in condition["message"]
    assert cluster.get(DEPLOYMENTS, "chorus-provider-cloud-e") is None


async def test_the_operator_role_grants_exactly_what_the_operator_asks_for(
    cluster: Cluster, operator_process: Path
) -> None:
    """Replays every request the operator made in this module against the chart's Role.

    This test drives the calls of its own (create with an autoscaler and a budget, status,
    removal of both), so it holds when run alone; run after the others it covers theirs too.
    """
    await cluster.apply(_example("kokoro.yaml", "local-r"), uid="uid-local-r")
    child = "chorus-provider-local-r"
    await eventually(lambda: cluster.get(BUDGETS, child))
    await cluster.patch(DEPLOYMENTS, child, {"status": AVAILABLE}, "/status")
    await eventually(lambda: (_ready(cluster, "local-r") or {}).get("status") == "True")
    await cluster.patch(
        PROVIDERS, "local-r", {"metadata": {"generation": 2}, "spec": {"enabled": False}}
    )
    await eventually(lambda: cluster.get(BUDGETS, child) is None, what="the budget removed")
    # A provider that scales to zero has a KEDA ScaledObject, removed when disabled.
    await cluster.apply(_example("qwen3-tts-base.yaml", "zero-r"), uid="uid-zero-r")
    await eventually(lambda: cluster.get(SCALED_OBJECTS, "chorus-provider-zero-r"))
    await cluster.patch(
        PROVIDERS, "zero-r", {"metadata": {"generation": 2}, "spec": {"enabled": False}}
    )
    await eventually(lambda: cluster.get(SCALED_OBJECTS, "chorus-provider-zero-r") is None)

    asked = requested(cluster.api, TOKEN, cluster.api.created_by_apply)
    role = granted("chorus-operator")
    assert asked - role == set(), "requests the chart's Role would refuse"
    # Not a request: the API server checks it when a child's ownerReference sets
    # blockOwnerDeletion (the OwnerReferencesPermissionEnforcement admission plugin).
    assert role - asked == {("chorus.dev", "ttsproviders/finalizers", "update")}


async def test_the_operator_exports_a_trace_per_reconcile(
    cluster: Cluster, collector: OtlpReceiver, operator_process: Path
) -> None:
    await cluster.apply(_example("openai.yaml", "cloud-t"), uid="uid-cloud-t")

    def reconciled() -> list[Any]:
        return [
            s
            for s in collector.snapshot()
            if s.service == "chorus-operator"
            and s.name == "reconcile"
            and s.attributes.get("chorus.provider") == "cloud-t"
        ]

    (span, *_) = await eventually(reconciled, what="a reconcile span at the collector")
    # Its API calls (the applies) are spans of the same trace.
    calls = [
        s for s in collector.snapshot() if s.trace_id == span.trace_id and s.name != "reconcile"
    ]
    assert any(
        s.attributes.get("http.request.method", s.attributes.get("http.method")) == "PATCH"
        for s in calls
    )
