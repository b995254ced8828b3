"""A batching runtime (spec.runtime) as pod parts: its server as a native sidecar, and how the
chorus-openai container in front of it reaches it.

The engine runs as an init container with `restartPolicy: Always` (a Kubernetes native
sidecar, 1.29+) rather than as a second plain container, for three reasons:
- the kubelet starts chorus-openai only after the engine's startupProbe passed, so the model is
  loaded when chorus-openai reads the engine's speakers as its voices;
- one pod is one scaling unit: an autoscaler adds an engine and its front together, and the
  pod is Ready only when both are (a sidecar's readiness counts);
- chorus-openai reaches the engine on localhost: no second Service, no extra network hop.

Commands and health endpoints, as the runtimes document them:
- vLLM-Omni: `vllm serve <model> --omni --port N`, `GET /health`
  (https://docs.vllm.ai/projects/vllm-omni/en/stable/serving/speech_api/);
- SGLang-Omni: `sgl-omni serve --model-path <path> --model-name <id> --port N`, `GET /health`
  (sgl-project/sglang-omni: its docs, and sglang_omni/serve/openai_api.py, whose /health
  answers 503 until the pipeline runs).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from chorus_operator.model_volume import MODEL_DIR, ModelParts
from chorus_operator.spec import HuggingFaceModel, Runtime, TTSProviderSpec

Manifest = dict[str, Any]

ENGINE_CONTAINER = "engine"
ENGINE_PORT = 8000
ENGINE_PORT_NAME = "engine"
HEALTH_PATH = "/health"
# Loading a multi-gigabyte checkpoint, compiling kernels and capturing CUDA graphs takes
# minutes: up to 30 of them before the kubelet gives up on the engine.
STARTUP_PERIOD_S = 10
STARTUP_FAILURES = 180
# The engine's caches (torch.compile, Triton, its own) go to a scratch volume; the root
# filesystem stays read-only. Shared memory carries tensors between the engine's processes.
SCRATCH_VOLUME = "engine-scratch"
SCRATCH_DIR = "/scratch"
SHM_VOLUME = "shm"
# The provider contract in front of it: chorus-openai's settings (services/providers/openai).
FRONT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}


def engine_command(runtime: Runtime, model: ModelParts) -> list[str]:
    """The engine's server, on all interfaces (the kubelet probes the pod's IP)."""
    # Weights mounted or fetched are at MODEL_DIR; inside the image, the engine finds them by id.
    path = MODEL_DIR if model.mounts else runtime.model
    listen = ["--host", "0.0.0.0", "--port", str(ENGINE_PORT)]
    if runtime.kind == "vllm-omni":
        command = ["vllm", "serve", path, "--omni", "--served-model-name", runtime.model]
    else:
        command = ["sgl-omni", "serve", "--model-path", path, "--model-name", runtime.model]
    return [*command, *listen, *runtime.engine_args]


def engine_sidecar(spec: TTSProviderSpec, model: ModelParts, security: Manifest) -> Manifest:
    """The engine's container: GPU resources, the weights, probes on its health endpoint."""
    assert spec.runtime is not None
    runtime = spec.runtime
    container: Manifest = {
        "name": ENGINE_CONTAINER,
        "image": runtime.image,
        "imagePullPolicy": spec.image_pull_policy,
        "restartPolicy": "Always",
        "command": engine_command(runtime, model),
        "ports": [{"name": ENGINE_PORT_NAME, "containerPort": ENGINE_PORT, "protocol": "TCP"}],
        "env": [
            *model.env,
            {"name": "HOME", "value": SCRATCH_DIR},
            {"name": "XDG_CACHE_HOME", "value": f"{SCRATCH_DIR}/cache"},
            {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
            {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
        ],
        "startupProbe": _health(STARTUP_PERIOD_S, STARTUP_FAILURES),
        "livenessProbe": _health(10, 3),
        "readinessProbe": _health(5, 2),
        "securityContext": security,
        "volumeMounts": [
            {"name": SCRATCH_VOLUME, "mountPath": SCRATCH_DIR},
            {"name": SCRATCH_VOLUME, "mountPath": "/tmp", "subPath": "tmp"},
            {"name": SHM_VOLUME, "mountPath": "/dev/shm"},
            *model.mounts,
        ],
    }
    resources = spec.pod_resources()
    if resources:
        container["resources"] = resources
    return container


def engine_volumes() -> list[Manifest]:
    return [
        {"name": SCRATCH_VOLUME, "emptyDir": {"sizeLimit": "20Gi"}},
        {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
    ]


def front_env(runtime: Runtime) -> list[Manifest]:
    """chorus-openai's settings for the engine beside it; spec.env may still override them."""
    settings: dict[str, str] = {
        "CHORUS_OPENAI_BASE_URL": f"http://127.0.0.1:{ENGINE_PORT}/v1",
        # The sidecar order already starts the front after the engine's startupProbe; the
        # front waits on the same health too, so a front restarted during an engine restart
        # stays not-ready (and keeps the engine's voices) until the model is back.
        "CHORUS_OPENAI_UPSTREAM_HEALTH_URL": f"http://127.0.0.1:{ENGINE_PORT}{HEALTH_PATH}",
        # The engine has no key: nothing to check, nothing to send.
        "CHORUS_OPENAI_VERIFY_KEY": "false",
        "CHORUS_OPENAI_MODELS": json.dumps([runtime.model]),
        "CHORUS_OPENAI_DEFAULT_MODEL": runtime.model,
        # Both runtimes stream PCM as it is made when asked to.
        "CHORUS_OPENAI_EXTRA_BODY": json.dumps({"stream": True}),
        "CHORUS_OPENAI_VOICE_CLONING": "true" if runtime.voice_cloning else "false",
        # The engine batches: the front lets this many streams through at once, and queues
        # the rest (chorus_provider_queued_requests, what the autoscaler reads).
        "CHORUS_OPENAI_MAX_CONCURRENCY": str(runtime.max_concurrency),
        # A long text on a busy batch takes a while; the router's own timeouts bound it.
        "CHORUS_OPENAI_READ_TIMEOUT_S": "300",
    }
    if runtime.task_type is not None:
        settings["CHORUS_OPENAI_TASK_TYPE"] = runtime.task_type
    return [{"name": name, "value": value} for name, value in settings.items()]


def hub_cli_fetch(hub: HuggingFaceModel) -> list[str]:
    """The fetch as the runtime's own image does it (`hf download`): no Chorus code in it."""
    steps = [_download(hub.repo, hub.revision, MODEL_DIR)]
    steps += [
        _download(extra.repo, extra.revision, f"{MODEL_DIR}/{extra.path}")
        for extra in hub.additional_repos
    ]
    return ["sh", "-c", " && ".join(steps)]


def _download(repo: str, revision: str, dest: str) -> str:
    return shlex.join(["hf", "download", repo, "--revision", revision, "--local-dir", dest])


def _health(period_s: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": HEALTH_PATH, "port": ENGINE_PORT_NAME},
        "periodSeconds": period_s,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }
