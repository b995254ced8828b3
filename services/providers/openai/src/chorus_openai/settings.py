from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from chorus_provider import ProviderSettings

OPENAI_VOICES = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova",
    "onyx", "sage", "shimmer", "verse", "marin", "cedar",
]  # fmt: skip


class OpenAISettings(ProviderSettings):
    """OpenAI's speech API by default; any OpenAI-compatible server by `base_url`.

    A request's model is sent as is when listed in `models`, else `default_model` is sent
    (the registry may route aliases such as `openai` here).
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
    voices: list[str] = Field(default_factory=lambda: list(OPENAI_VOICES), min_length=1)
    instructions: bool = True
    sample_rate: int = Field(default=24_000, ge=8_000, le=192_000)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=30.0, gt=0, le=600)
    verify_key: bool = True
    forward_extra: bool = False
