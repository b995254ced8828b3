"""The children of a TTSProvider, rendered as plain dicts by one pure function.

Rendering the same resource twice gives the same objects, so reconciling is idempotent: applying
them again changes nothing in the cluster unless it drifted from what is rendered here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from chorus_operator.engine_sidecar import (
    FRONT_REQUESTS,
    engine_sidecar,
    engine_volumes,
    front_env,
    hub_cli_fetch,
)
from chorus_operator.images import ImageDefaults
from chorus_operator.model_volume import ModelParts, model_parts
from chorus_operator.naming import (
    CONTAINER_NAME,
    PORT_NAME,
    PROVIDER_PORT,
    child_labels,
    child_name,
    selector_labels,
)
from chorus_operator.provider import ProviderResource
from chorus_operator.scaling import (
    HPA,
    SCALED_OBJECT,
    Scaler,
    autoscaler,
    scaled_object,
    target_of,
    uses_keda,
)
from chorus_operator.spec import DisruptionBudget

Manifest = dict[str, Any]
AS_WRITTEN = ImageDefaults()

# Providers run as this unprivileged user; images must not need root or a writable root fs.
RUN_AS_USER = 10001
# A terminating pod leaves its Service's endpoints asynchronously: it keeps serving this long
# before SIGTERM. Then it drains (new work 503) for up to the provider's routing
# requestTimeoutS, the longest stream the router waits for; the grace period covers both.
PRESTOP_SLEEP_S = 5
EXIT_MARGIN_S = 5
DRAIN_TIMEOUT_ENV = "CHORUS_DRAIN_TIMEOUT_S"
# Deployment and Service first; optional children are the ones removed when no longer asked for.
DEPLOYMENT = ("apps/v1", "Deployment")
SERVICE = ("v1", "Service")
AUTOSCALER = HPA
DISRUPTION_BUDGET = ("policy/v1", "PodDisruptionBudget")


@dataclass(frozen=True)
class Children:
    """What one provider owns; `None` means that child must not exist."""

    deployment: Manifest
    service: Manifest
    autoscaler: Manifest | None
    disruption_budget: Manifest | None
    scaled_object: Manifest | None = None

    def optional(self) -> list[tuple[tuple[str, str], Manifest | None]]:
        """The children that exist only when asked for, by (apiVersion, kind)."""
        return [
            (AUTOSCALER, self.autoscaler),
            (DISRUPTION_BUDGET, self.disruption_budget),
            (SCALED_OBJECT, self.scaled_object),
        ]

    def by_kind(self, kind: str) -> Manifest | None:
        """The child of that kind (Deployment, Service, ...); None when it must not exist."""
        every = [(DEPLOYMENT, self.deployment), (SERVICE, self.service), *self.optional()]
        return next((child for (_, k), child in every if k == kind), None)

    def every(self) -> list[Manifest]:
        """The children that must exist."""
        optional = [child for _, child in self.optional() if child is not None]
        return [self.deployment, self.service, *optional]


@dataclass(frozen=True)
class Scaling:
    """How the operator renders spec.autoscaling (OperatorSettings): see scaling.py."""

    scaler: Scaler = "hpa"
    prometheus_url: str = "http://prometheus-operated:9090"


HPA_BY_DEFAULT = Scaling()


def render(
    provider: ProviderResource,
    otel_env: Mapping[str, str],
    images: ImageDefaults = AS_WRITTEN,
    scaling: Scaling = HPA_BY_DEFAULT,
) -> Children:
    """Everything the provider needs in the cluster; `otel_env` is the operator's OTEL_* set,
    `images` completes an image reference that names no registry or tag."""
    spec = provider.spec
    # A disabled provider keeps only its scaled-down Deployment and its Service.
    wanted = spec.autoscaling if spec.enabled else None
    budget = spec.disruption_budget if spec.enabled else None
    keda = wanted is not None and uses_keda(wanted, scaling.scaler)
    metadata, target = _metadata(provider), target_of(provider)
    children = Children(
        deployment=_deployment(provider, otel_env, images),
        service=_service(provider),
        autoscaler=None if wanted is None or keda else autoscaler(wanted, metadata, target),
        disruption_budget=None if budget is None else _disruption_budget(provider, budget),
        scaled_object=(
            scaled_object(provider, wanted, metadata, target, scaling.prometheus_url)
            if wanted is not None and keda
            else None
        ),
    )
    # Owned by the resource (as its controller), so Kubernetes deletes the children with it:
    # no finalizer needed.
    kopf.append_owner_reference(children.every(), owner=provider.owner())
    return children


def _metadata(provider: ProviderResource) -> Manifest:
    return {
        "name": child_name(provider.name),
        "namespace": provider.namespace,
        "labels": child_labels(provider.name, provider.spec.kind),
    }


def _deployment(
    provider: ProviderResource, otel_env: Mapping[str, str], images: ImageDefaults
) -> Manifest:
    spec = provider.spec
    gpu = spec.kind == "gpu"
    replicas = spec.desired_replicas()
    deployment_spec: Manifest = {} if replicas is None else {"replicas": replicas}
    deployment_spec |= {
        "selector": {"matchLabels": selector_labels(provider.name)},
        "revisionHistoryLimit": 3,
        # Model downloads and GPU node scale-up take a while before a rollout counts as stuck.
        "progressDeadlineSeconds": 1800 if gpu else 600,
        "strategy": {
            "type": "RollingUpdate",
            # A surge pod on GPUs may never find a free GPU; elsewhere never drop below desired.
            "rollingUpdate": (
                {"maxSurge": 0, "maxUnavailable": 1}
                if gpu
                else {"maxSurge": 1, "maxUnavailable": 0}
            ),
        },
        "template": {
            "metadata": {"labels": child_labels(provider.name, spec.kind)},
            "spec": _pod_spec(provider, otel_env, images),
        },
    }
    return {
        "apiVersion": DEPLOYMENT[0],
        "kind": DEPLOYMENT[1],
        "metadata": _metadata(provider),
        "spec": deployment_spec,
    }


def _pod_spec(
    provider: ProviderResource, otel_env: Mapping[str, str], images: ImageDefaults
) -> Manifest:
    spec = provider.spec
    runtime = spec.runtime
    image = images.resolve(spec.image)
    # With a runtime, the weights are the engine's and its own image fetches them.
    model = model_parts(spec.model) if runtime is None else model_parts(spec.model, hub_cli_fetch)
    container = _container(provider, otel_env, image, model)
    pod: Manifest = {
        # Providers never talk to the Kubernetes API.
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationGracePeriodSeconds": PRESTOP_SLEEP_S + _drain_s(provider) + EXIT_MARGIN_S,
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}, *model.volumes],
    }
    init: list[Manifest] = []
    if model.fetcher is not None:
        # The fetcher runs the image that reads the weights, as the same unprivileged user.
        init.append(
            {
                "image": image if runtime is None else runtime.image,
                "imagePullPolicy": spec.image_pull_policy,
                **model.fetcher,
                "securityContext": container["securityContext"],
            }
        )
    if runtime is not None:
        init.append(engine_sidecar(spec, model, container["securityContext"]))
        pod["volumes"] += engine_volumes()
    if init:
        pod["initContainers"] = init
    if spec.node_selector is not None:
        pod["nodeSelector"] = spec.node_selector
    tolerations = spec.pod_tolerations()
    if tolerations:
        pod["tolerations"] = [t.model_dump(by_alias=True, exclude_none=True) for t in tolerations]
    if spec.affinity is not None:
        pod["affinity"] = spec.affinity
    if spec.runtime_class_name is not None:
        pod["runtimeClassName"] = spec.runtime_class_name
    return pod


def _container(
    provider: ProviderResource, otel_env: Mapping[str, str], image: str, model: ModelParts
) -> Manifest:
    """The provider contract's container; in front of a runtime, a thin chorus-openai."""
    spec = provider.spec
    fronts_engine = spec.runtime is not None
    model_env = front_env(spec.runtime) if spec.runtime is not None else model.env
    container: Manifest = {
        "name": CONTAINER_NAME,
        "image": image,
        "imagePullPolicy": spec.image_pull_policy,
        "ports": [{"name": PORT_NAME, "containerPort": PROVIDER_PORT, "protocol": "TCP"}],
        "env": _env(provider, otel_env, model_env),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_S)]}}},
    }
    resources = {"requests": dict(FRONT_REQUESTS)} if fronts_engine else spec.pod_resources()
    if resources:
        container["resources"] = resources
    # Startup waits for the engine to load its model (readiness), up to 10 min (20 on GPUs);
    # after that, liveness only asks whether the process answers. A runtime's engine has its
    # own start-up budget (engine_sidecar.py) and starts before this container.
    container |= {
        "startupProbe": _probe("/readyz", period_s=5, failures=240 if spec.kind == "gpu" else 120),
        "livenessProbe": _probe("/healthz", period_s=10, failures=3),
        "readinessProbe": _probe("/readyz", period_s=5, failures=2),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *([] if fronts_engine else model.mounts),
        ],
    }
    return container


def _drain_s(provider: ProviderResource) -> int:
    return math.ceil(provider.spec.routing.request_timeout_s)


def _probe(path: str, *, period_s: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": PORT_NAME},
        "periodSeconds": period_s,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _env(
    provider: ProviderResource, otel_env: Mapping[str, str], model_env: list[Manifest]
) -> list[Manifest]:
    """OTEL_* from the operator, where the weights are, spec.env, the API key: later names win."""
    spec = provider.spec
    by_name: dict[str, Manifest] = {
        name: {"name": name, "value": value} for name, value in sorted(otel_env.items())
    }
    # Each provider is its own service in traces, whatever the operator itself is called.
    by_name["OTEL_SERVICE_NAME"] = {"name": "OTEL_SERVICE_NAME", "value": child_name(provider.name)}
    by_name[DRAIN_TIMEOUT_ENV] = {"name": DRAIN_TIMEOUT_ENV, "value": str(_drain_s(provider))}
    by_name |= {var["name"]: var for var in model_env}
    for var in spec.env:
        by_name[var.name] = var.model_dump(by_alias=True, exclude_none=True)
    if spec.credentials is not None:
        creds = spec.credentials
        by_name[creds.env] = {
            "name": creds.env,
            "valueFrom": {"secretKeyRef": {"name": creds.secret_name, "key": creds.key}},
        }
    return list(by_name.values())


def _service(provider: ProviderResource) -> Manifest:
    return {
        "apiVersion": SERVICE[0],
        "kind": SERVICE[1],
        "metadata": _metadata(provider),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(provider.name),
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": PROVIDER_PORT,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def _disruption_budget(provider: ProviderResource, budget: DisruptionBudget) -> Manifest:
    bound = (
        {"minAvailable": budget.min_available}
        if budget.min_available is not None
        else {"maxUnavailable": budget.max_unavailable}
    )
    return {
        "apiVersion": DISRUPTION_BUDGET[0],
        "kind": DISRUPTION_BUDGET[1],
        "metadata": _metadata(provider),
        "spec": {
            "selector": {"matchLabels": selector_labels(provider.name)},
            **bound,
            # Pods stuck loading a model must not block node drains.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
