"""Where a provider's weights come from, as pod parts: a read-only volume, or an init container.

Both sources end the same way for the provider: its weights in Hugging Face layout under
MODEL_DIR, named by CHORUS_MODEL_PATH (every torch provider reads it), with the Hugging Face
library offline. A PVC is mounted read-only; a Hugging Face revision is fetched first by an
init container running the provider's own image into a volume of the pod (the
storage-initializer pattern of KServe), so the serving container never downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chorus_operator.spec import HuggingFaceModel, ModelSource

Manifest = dict[str, Any]

MODEL_DIR = "/models"
MODEL_VOLUME = "model"
MODEL_PATH_ENV = "CHORUS_MODEL_PATH"
FETCH_CONTAINER = "fetch-model"
# chorus_torch's fetcher; the provider image has it, so no second image is pulled.
FETCH_COMMAND = ["python", "-m", "chorus_torch.fetch"]
# The init container's command for a pinned Hugging Face source.
FetchCommand = Callable[[HuggingFaceModel], list[str]]


def chorus_fetch(hub: HuggingFaceModel) -> list[str]:
    """`repo@revision` into MODEL_DIR, each additional repo into its path."""
    wanted = [f"{hub.repo}@{hub.revision}"]
    wanted += [f"{extra.repo}@{extra.revision}:{extra.path}" for extra in hub.additional_repos]
    return [*FETCH_COMMAND, "--dest", MODEL_DIR, *wanted]


@dataclass(frozen=True)
class ModelParts:
    """What the pod gains from spec.model; empty for weights inside the image."""

    volumes: list[Manifest] = field(default_factory=list)
    mounts: list[Manifest] = field(default_factory=list)
    env: list[Manifest] = field(default_factory=list)
    fetcher: Manifest | None = None


def model_parts(source: ModelSource | None, fetch: FetchCommand = chorus_fetch) -> ModelParts:
    if source is None or source.in_image is not None:
        return ModelParts()
    offline = [
        {"name": MODEL_PATH_ENV, "value": MODEL_DIR},
        {"name": "HF_HUB_OFFLINE", "value": "1"},
    ]
    read_only: Manifest = {"name": MODEL_VOLUME, "mountPath": MODEL_DIR, "readOnly": True}
    if source.pvc is not None:
        claim = {"claimName": source.pvc.claim_name, "readOnly": True}
        mount = read_only | ({"subPath": source.pvc.path} if source.pvc.path else {})
        return ModelParts(
            volumes=[{"name": MODEL_VOLUME, "persistentVolumeClaim": claim}],
            mounts=[mount],
            env=offline,
        )
    assert source.hugging_face is not None  # the spec holds exactly one source
    hub = source.hugging_face
    return ModelParts(
        volumes=[{"name": MODEL_VOLUME, "emptyDir": {"sizeLimit": hub.cache_size}}],
        mounts=[read_only],
        env=offline,
        fetcher=_fetcher(hub, fetch),
    )


def _fetcher(hub: HuggingFaceModel, fetch: FetchCommand) -> Manifest:
    """The init container that fetches the weights before the provider starts."""
    env: list[Manifest] = [
        # The library's own cache and lock files go to /tmp, not into the model directory.
        {"name": "HF_HOME", "value": "/tmp/hf"},
        {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
    ]
    if hub.token_secret is not None:
        secret = {"name": hub.token_secret.name, "key": hub.token_secret.key}
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": secret}})
    return {
        "name": FETCH_CONTAINER,
        "command": fetch(hub),
        "env": env,
        "volumeMounts": [
            {"name": MODEL_VOLUME, "mountPath": MODEL_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
