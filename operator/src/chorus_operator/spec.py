"""The TTSProvider spec as one typed model.

The CRD's schema is generated from these classes, and every default lives here, including
those that depend on the provider's kind (GPU limit and toleration), so the
cluster and the operator can never disagree about what an omitted field means.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

from chorus_contracts import ProviderKind, RoutingPolicy

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

# GPU pods are placed by this limit alone, as NVIDIA's device plugin intends: no node label is
# assumed, since only clusters running GPU Feature Discovery publish one.
GPU_RESOURCE = "nvidia.com/gpu"
# Requests used when spec.resources is omitted, so the scheduler (and an HPA) has numbers to use.
DEFAULT_REQUESTS: dict[str, dict[str, str]] = {
    "cloud": {"cpu": "100m", "memory": "128Mi"},
    "local": {"cpu": "500m", "memory": "1Gi"},
    "gpu": {"cpu": "1", "memory": "4Gi"},
}

# Messages shared by the model's validators and the CRD's CEL rules (see crd.py).
CLOUD_NEEDS_CREDENTIALS = "a cloud provider needs spec.credentials (a Secret name, key and env)"
GPU_ONLY_FOR_GPU_KIND = "GPU resources are only allowed with kind: gpu"
REPLICAS_OR_AUTOSCALING = "set spec.replicas or spec.autoscaling, not both"
MIN_ABOVE_MAX = "minReplicas must not exceed maxReplicas"
ONE_BUDGET_BOUND = "set exactly one of minAvailable and maxUnavailable"
GPU_NEEDS_MODEL = "a gpu provider needs spec.model (pvc, huggingFace, or inImage)"
ONE_MODEL_SOURCE = "set exactly one of pvc, huggingFace and inImage"
RUNTIME_ONLY_FOR_GPU_KIND = "spec.runtime needs kind: gpu"
SCALE_TO_ZERO_NEEDS_GPU = "autoscaling.minReplicas: 0 is for kind gpu (a GPU held idle costs)"
# A relative path whose segments never start with a dot: no "..", no hidden escapes.
RELATIVE_PATH = r"^([A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*)?$"
HF_REPO = r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"


def _quantity_text(value: object) -> object:
    # Kubernetes accepts `cpu: 1` and `cpu: "1"`; the operator always writes the string form.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity_text),
    Field(pattern=QUANTITY),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
ResourceList = Annotated[dict[str, Quantity], Field(max_length=16)]


def _is_gpu_resource(name: str) -> bool:
    """`nvidia.com/gpu`, `amd.com/gpu`, ...: the extended resources that only GPU nodes offer."""
    return name.endswith("/gpu")


class _SpecModel(BaseModel):
    # camelCase in the resource, snake_case in Python; unknown fields are errors, not ignored.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Credentials(_SpecModel):
    """The API key of a cloud provider: a key of a Secret, exposed to the container as one env
    variable. The operator never reads or copies the key itself."""

    secret_name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN)
    key: str = Field(default="api-key", max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")
    env: str = Field(
        max_length=128,
        pattern=ENV_NAME,
        description="The env variable the provider reads its key from, e.g. CHORUS_OPENAI_API_KEY.",
    )


class Autoscaling(_SpecModel):
    """Scaling on the speech queue: requests waiting and in flight per replica, not CPU.

    Rendered as an HPA on Pods metrics (custom metrics API) or a KEDA ScaledObject on
    Prometheus; minReplicas 0 always needs KEDA, which wakes the provider from the router's
    count of requests held for it.
    """

    min_replicas: int = Field(
        default=1, ge=0, le=100, description="0 scales a gpu provider to zero when idle (KEDA)."
    )
    max_replicas: int = Field(ge=1, le=100)
    target_queued_per_replica: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Requests waiting for an engine slot per replica before scaling up.",
    )
    target_in_flight_per_replica: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Syntheses in flight per replica before scaling up; set it below the "
        "engine's concurrency limit to add a replica before requests queue.",
    )
    target_cpu_percent: int | None = Field(
        default=None,
        ge=1,
        le=100,
        alias="targetCPUUtilizationPercentage",
        description="Also scale on CPU (CPU engines); off unless set.",
    )
    idle_before_zero_s: int = Field(
        default=600,
        ge=30,
        le=86_400,
        description="With minReplicas 0: how long without requests before the last replica goes.",
    )

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(MIN_ABOVE_MAX)
        return self

    @property
    def scales_to_zero(self) -> bool:
        return self.min_replicas == 0


class DisruptionBudget(_SpecModel):
    """A PodDisruptionBudget: set exactly one of the two."""

    min_available: int | None = Field(default=None, ge=0, le=100)
    max_unavailable: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _exactly_one(self) -> DisruptionBudget:
        if (self.min_available is None) == (self.max_unavailable is None):
            raise ValueError(ONE_BUDGET_BOUND)
        return self


class Resources(_SpecModel):
    """Container resources; quantities as in any pod spec."""

    limits: ResourceList = Field(default_factory=dict)
    requests: ResourceList = Field(default_factory=dict)


class Toleration(_SpecModel):
    key: str | None = Field(default=None, max_length=317)
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = Field(default=None, max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


class EnvVar(_SpecModel):
    """Passed to the provider container as is; `valueFrom` takes any Kubernetes env source."""

    name: str = Field(max_length=128, pattern=ENV_NAME)
    value: str | None = Field(default=None, max_length=32768)
    value_from: dict[str, Any] | None = None


class PvcModel(_SpecModel):
    """Weights already on a PersistentVolumeClaim, mounted read-only."""

    claim_name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN)
    path: str = Field(
        default="",
        max_length=1024,
        pattern=RELATIVE_PATH,
        description="The model directory inside the claim (Hugging Face layout); empty: its root.",
    )


class SecretKey(_SpecModel):
    name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN)
    key: str = Field(default="token", max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")


class HuggingFaceRepo(_SpecModel):
    repo: str = Field(max_length=200, pattern=HF_REPO, description="e.g. nari-labs/Dia-1.6B-0626")
    revision: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._/-]+$",
        description="The revision to fetch; a commit hash pins it for good.",
    )


class AdditionalRepo(HuggingFaceRepo):
    path: str = Field(
        min_length=1,
        max_length=255,
        pattern=RELATIVE_PATH,
        description="Where it goes inside the model directory, e.g. codec for Dia's DAC.",
    )


class HuggingFaceModel(HuggingFaceRepo):
    """Fetched by an init container into a cache volume; the provider itself starts offline."""

    token_secret: SecretKey | None = Field(
        default=None, description="A Secret key holding a Hugging Face token (gated repos)."
    )
    additional_repos: list[AdditionalRepo] = Field(default_factory=list, max_length=8)
    cache_size: Quantity = Field(
        default="40Gi", description="The size limit of the volume the weights are fetched into."
    )


class InImage(_SpecModel):
    """The image carries its weights (e.g. chorus-kokoro-gpu): nothing to mount or fetch."""


class ModelSource(_SpecModel):
    """Where a provider's weights come from; exactly one source."""

    pvc: PvcModel | None = None
    hugging_face: HuggingFaceModel | None = None
    in_image: InImage | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelSource:
        if [self.pvc, self.hugging_face, self.in_image].count(None) != 2:
            raise ValueError(ONE_MODEL_SOURCE)
        return self


RuntimeKind = Literal["vllm-omni", "sglang-omni"]
# Qwen3-TTS's three checkpoints; the runtimes take it per request (vLLM-Omni's speech API).
TaskType = Literal["CustomVoice", "VoiceDesign", "Base"]


class Runtime(_SpecModel):
    """A batching engine's own OpenAI-compatible server, run beside chorus-openai in the pod.

    The engine batches many requests on one GPU; chorus-openai (spec.image) in front of it
    speaks the provider contract, so the router sees it like any other provider.
    """

    kind: RuntimeKind = Field(description="vllm-omni (vllm serve --omni) or sglang-omni.")
    image: str = Field(
        min_length=1, max_length=512, description="The engine's image, e.g. vllm/vllm-omni:v0.18.0."
    )
    model: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The model id the engine serves (and is asked for), e.g. "
        "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice.",
    )
    engine_args: list[Annotated[str, Field(min_length=1, max_length=512)]] = Field(
        default_factory=list,
        max_length=64,
        description="Appended to the engine's command line, e.g. --deploy-config, "
        "--gpu-memory-utilization 0.9.",
    )
    task_type: TaskType | None = Field(
        default=None, description="Sent with every request (Qwen3-TTS checkpoints need it)."
    )
    voice_cloning: bool = Field(
        default=False,
        description="The model clones: a request's reference sample goes up as ref_audio "
        "(and its transcript as ref_text).",
    )
    max_concurrency: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Streams sent to the engine at once (the batch it makes); more wait in "
        "chorus-openai's queue, which the autoscaler scales on.",
    )


class TTSProviderSpec(_SpecModel):
    """What a provider is (kind, image, models, voices), how it is routed, and how it runs."""

    kind: ProviderKind = Field(
        description="cloud (an API behind a key), local (CPU model), or gpu (scheduled on GPUs)."
    )
    enabled: bool = Field(
        default=True, description="false scales the provider to zero and takes it out of routing."
    )
    image: str = Field(
        min_length=1,
        max_length=512,
        description="The provider image; it decides the engine (chorus-kokoro, chorus-openai...).",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    models: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        min_length=1, max_length=64, description="OpenAI model ids this provider serves."
    )
    voices: dict[str, Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=dict,
        max_length=256,
        description="OpenAI voice names (alloy, nova, ...) -> this provider's voice ids.",
    )
    credentials: Credentials | None = None
    routing: RoutingPolicy = Field(
        default_factory=RoutingPolicy,
        description="Priority, fallback, timeouts, retries and breaker: read by the router.",
    )
    replicas: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="A fixed replica count; 1 when neither this nor autoscaling is set "
        "(enabled: false is how a provider goes to zero).",
    )
    autoscaling: Autoscaling | None = None
    disruption_budget: DisruptionBudget | None = None
    resources: Resources | None = Field(
        default=None,
        description="Requests default by kind when omitted; kind gpu adds nvidia.com/gpu: 1 "
        "unless a GPU limit is given.",
    )
    node_selector: dict[str, Annotated[str, Field(max_length=63)]] | None = Field(
        default=None,
        max_length=32,
        description="Used as given; kind gpu is placed by its nvidia.com/gpu limit without one.",
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        max_length=32,
        description="kind gpu always tolerates the nvidia.com/gpu taint in addition.",
    )
    affinity: dict[str, Any] | None = Field(default=None, description="A pod affinity, as is.")
    runtime_class_name: str | None = Field(
        default=None,
        max_length=253,
        pattern=DNS_SUBDOMAIN,
        description="e.g. nvidia where GPUs need NVIDIA's container runtime (k3s, GPU operator).",
    )
    env: list[EnvVar] = Field(default_factory=list, max_length=128)
    model: ModelSource | None = Field(
        default=None,
        description="The weights: a PVC, a pinned Hugging Face revision, or the image's own; "
        "required for kind gpu.",
    )
    runtime: Runtime | None = Field(
        default=None,
        description="Run a batching engine (vLLM-Omni, SGLang-Omni) with chorus-openai "
        "(spec.image) in front of it; kind gpu only.",
    )

    @model_validator(mode="after")
    def _cross_field_rules(self) -> TTSProviderSpec:
        if self.kind == "cloud" and self.credentials is None:
            raise ValueError(CLOUD_NEEDS_CREDENTIALS)
        if self.kind == "gpu" and self.model is None:
            raise ValueError(GPU_NEEDS_MODEL)
        if self.kind != "gpu" and self.resources is not None:
            named = [*self.resources.limits, *self.resources.requests]
            if any(_is_gpu_resource(name) for name in named):
                raise ValueError(GPU_ONLY_FOR_GPU_KIND)
        if self.replicas is not None and self.autoscaling is not None:
            raise ValueError(REPLICAS_OR_AUTOSCALING)
        if self.runtime is not None and self.kind != "gpu":
            raise ValueError(RUNTIME_ONLY_FOR_GPU_KIND)
        if self.autoscaling is not None and self.autoscaling.scales_to_zero and self.kind != "gpu":
            raise ValueError(SCALE_TO_ZERO_NEEDS_GPU)
        return self

    def desired_replicas(self) -> int | None:
        """The Deployment's replica count; None while an autoscaler owns it."""
        if not self.enabled:
            return 0
        if self.autoscaling is not None:
            return None
        return 1 if self.replicas is None else self.replicas

    def pod_resources(self) -> dict[str, dict[str, str]]:
        """The user's resources (or the kind's default requests), plus one GPU for kind gpu."""
        if self.resources is None:
            limits: dict[str, str] = {}
            requests = dict(DEFAULT_REQUESTS[self.kind])
        else:
            limits = dict(self.resources.limits)
            requests = dict(self.resources.requests)
        if self.kind == "gpu" and not any(_is_gpu_resource(name) for name in limits):
            limits[GPU_RESOURCE] = "1"
        return {k: v for k, v in (("limits", limits), ("requests", requests)) if v}

    def pod_tolerations(self) -> list[Toleration]:
        """The user's tolerations; kind gpu also tolerates the GPU taint unless already covered."""
        tolerations = list(self.tolerations)
        if self.kind == "gpu" and not any(t.key == GPU_RESOURCE for t in tolerations):
            tolerations.append(Toleration(key=GPU_RESOURCE, operator="Exists", effect="NoSchedule"))
        return tolerations
