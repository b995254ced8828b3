from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from chorus_provider import ProviderSettings

OPENAI_VOICES = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova",
    "onyx", "sage", "shimmer", "verse", "marin", "cedar",
]  # fmt: skip


class OpenAISettings(ProviderSettings):
    """OpenAI's speech API by default; any OpenAI-compatible server by `base_url`.

    A request's model goes upstream as `model_map` says, else as is when listed in `models`,
    else as `default_model` (the registry may route aliases such as `openai` here).
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_OPENAI_", extra="forbid")

    name: str = "openai"
    port: int = Field(default=8104, ge=1, le=65535)
    base_url: str = Field(default="https://api.openai.com/v1", pattern=r"^https?://")
    api_key: SecretStr | None = None
    models: list[str] = Field(
        default_factory=lambda: ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"], min_length=1
    )
    default_model: str = Field(default="gpt-4o-mini-tts", min_length=1)
    # Router model id -> upstream model id, e.g. {"tts-1": "kokoro"} (JSON in the environment).
    model_map: dict[str, str] = Field(default_factory=dict, max_length=100)
    # Unset: the upstream's own list (GET /audio/voices or /voices) when it offers one,
    # else OpenAI's voices.
    voices: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    # Merged into every upstream request body, e.g. {"stream": true} for servers that stream
    # only when asked; the fields this provider sets itself win.
    extra_body: dict[str, Any] = Field(default_factory=dict, max_length=32)
    # "sentence": one upstream request per sentence, `chunk_lookahead` of them in flight, so a
    # server that makes whole clips still gives first audio after one sentence.
    chunking: Literal["none", "sentence"] = "none"
    chunk_lookahead: int = Field(default=2, ge=1, le=8)
    instructions: bool = True
    # Upstream models that take no `instructions` (nor SSML prosody described in them).
    speed_only_models: list[str] = Field(default_factory=lambda: ["tts-1", "tts-1-hd"])
    sample_rate: int = Field(default=24_000, ge=8_000, le=192_000)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=30.0, gt=0, le=600)
    verify_key: bool = True
    forward_extra: bool = False
    # Batching runtimes (vLLM-Omni, SGLang-Omni): Qwen3-TTS's task (CustomVoice, VoiceDesign,
    # Base), sent with every request when set.
    task_type: str | None = Field(default=None, min_length=1, max_length=64)
    # The upstream clones: a request's reference sample goes up as `ref_audio` (a WAV data URL)
    # with its transcript as `ref_text`, as both runtimes' speech APIs take them.
    voice_cloning: bool = False
    # A runtime beside this front (vLLM-Omni, SGLang-Omni): its health URL. Loading waits
    # until it answers 200, so this service is not ready while the model loads, and the
    # voice list is the loaded engine's.
    upstream_health_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)

    @field_validator("model_map")
    @classmethod
    def _named_models(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not k or not v for k, v in value.items()):
            raise ValueError("model_map entries need a router model id and an upstream model id")
        return value
