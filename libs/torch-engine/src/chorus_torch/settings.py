"""Settings every torch provider shares; each provider subclasses with its own env prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from chorus_provider import ProviderSettings

# Where the operator mounts or fetches the weights (spec.model), one name for every provider.
OPERATOR_MODEL_PATH_ENV = "CHORUS_MODEL_PATH"
# The device of every torch provider a process starts (make test-cuda, the GPU bench).
TORCH_DEVICE_ENV = "CHORUS_TORCH_DEVICE"
# Variables every torch provider reads whatever its own prefix, and the field each sets.
_SHARED_VARIABLES = {OPERATOR_MODEL_PATH_ENV: "model_path", TORCH_DEVICE_ENV: "device"}


class _SharedVariables(PydanticBaseSettingsSource):
    """CHORUS_MODEL_PATH and CHORUS_TORCH_DEVICE, below the provider's own prefixed variables."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            field: os.environ[variable]
            for variable, field in _SHARED_VARIABLES.items()
            if os.environ.get(variable)
        }


class TorchSettings(ProviderSettings):
    """Where the weights are, which device and dtype run them, and when to let them go.

    Weights come from `model_path` (a directory in Hugging Face layout, e.g. a mounted PVC)
    or else from the Hugging Face cache by `model_repo` at `model_revision`; nothing is
    downloaded unless `allow_download` is true.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_TORCH_", extra="forbid")

    # One generation per GPU unless the engine batches (chorus_torch.batching): a second
    # unbatched one would only slow both and double the KV cache.
    max_concurrency: int = Field(default=1, ge=1, le=64)
    device: Literal["auto", "cuda", "cpu"] = "auto"
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    model_path: Path | None = None
    model_repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    model_revision: str | None = Field(default=None, min_length=1, max_length=100)
    # The Hugging Face cache that `model_repo` is read from; unset, the library's own
    # (HF_HOME / HF_HUB_CACHE).
    hf_cache_dir: Path | None = None
    allow_download: bool = False
    # GPU memory kept free beyond the weights: activations, KV cache, the codec.
    gpu_memory_reserve_mb: int = Field(default=2048, ge=0, le=1_000_000)
    # Free the weights after this many idle seconds and load them again on the next
    # request; 0 keeps them loaded.
    idle_unload_s: float = Field(default=0, ge=0, le=7 * 24 * 3600)
    # Streaming: codec frames per decoded window, and earlier frames decoded with it so
    # window edges join smoothly (their samples are dropped).
    stream_window_frames: int = Field(default=24, ge=1, le=4096)
    # The first window, so that the first audio waits for a few steps only; each next one
    # doubles up to `stream_window_frames`.
    stream_first_window_frames: int = Field(default=6, ge=1, le=4096)
    stream_context_frames: int = Field(default=8, ge=0, le=1024)
    seed: int | None = Field(default=None, ge=0)
    # torch's intra-op threads in this process; unset, torch's default: every core of the
    # machine, which oversubscribes a container limited to fewer CPUs. A batching provider
    # already runs its batch and its codec on threads of their own: on a small CPU, 1 each
    # keeps OpenMP from spinning against them (a step of 8 on 2 busy cores: 51-69 ms with
    # 2 threads, 12 ms with 1).
    cpu_threads: int | None = Field(default=None, ge=1, le=1024)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        ours = super().settings_customise_sources(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )
        # Environment first, then the shared variables, then the YAML file and the rest.
        return (ours[0], _SharedVariables(settings_cls), *ours[1:])

    @model_validator(mode="after")
    def _a_weight_source(self) -> TorchSettings:
        if self.model_path is None and self.model_repo is None:
            raise ValueError("set model_path (a local model directory) or model_repo")
        return self
