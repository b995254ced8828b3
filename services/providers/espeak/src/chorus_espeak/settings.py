from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_provider import ProviderSettings


class EspeakSettings(ProviderSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_ESPEAK_", extra="forbid")

    name: str = "espeak"
    port: int = Field(default=8101, ge=1, le=65535)
    binary: str = "espeak-ng"
    models: list[str] = Field(default_factory=lambda: ["espeak"])
    base_words_per_minute: int = Field(default=175, ge=80, le=450)
    render_timeout_s: float = Field(default=60.0, gt=0)
