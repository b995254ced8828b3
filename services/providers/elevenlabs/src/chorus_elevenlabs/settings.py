from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from chorus_contracts import VoiceInfo
from chorus_provider import ProviderSettings

SampleRate = Literal[8000, 16000, 22050, 24000, 44100, 48000]


class ElevenLabsSettings(ProviderSettings):
    """ElevenLabs' text-to-speech API; voices are listed from the account at start-up.

    `voices` are added to the listed ones, and stand in for them when listing fails for a
    reason other than a refused key (without them, start-up retries until listing works).
    The model sent is `extra_params.model_id`, else the request's model when listed in
    `models`, else `default_model`. With `voice_cloning`, a request's reference sample is
    cloned into the account once and the clone reused; up to `clone_cache_size` clone ids are
    remembered (the account itself keeps them across restarts). A request's lexicon entries
    become a pronunciation dictionary, one per entries' version, up to
    `dictionary_cache_size` remembered.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_ELEVENLABS_", extra="forbid")

    name: str = "elevenlabs"
    port: int = Field(default=8105, ge=1, le=65535)
    base_url: str = Field(default="https://api.elevenlabs.io", pattern=r"^https?://")
    api_key: SecretStr | None = None
    models: list[str] = Field(
        default_factory=lambda: [
            "eleven_multilingual_v2",
            "eleven_flash_v2_5",
            "eleven_turbo_v2_5",
            "eleven_v3",
        ],
        min_length=1,
    )
    default_model: str = Field(default="eleven_multilingual_v2", min_length=1)
    sample_rate: SampleRate = 24_000
    list_voices: bool = True
    voices: list[VoiceInfo] = Field(default_factory=list, validate_default=True)
    voice_list_retry_s: float = Field(default=10.0, gt=0, le=3600)
    voice_cloning: bool = True
    clone_cache_size: int = Field(default=256, ge=1, le=100_000)
    dictionary_cache_size: int = Field(default=256, ge=1, le=100_000)
    # The models that honour IPA phoneme rules; the others skip a word such a rule matches.
    phoneme_models: list[str] = Field(
        default_factory=lambda: ["eleven_flash_v2", "eleven_turbo_v2", "eleven_monolingual_v1"]
    )
    optimize_streaming_latency: int | None = Field(default=None, ge=0, le=4)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=30.0, gt=0, le=600)

    @field_validator("voices")
    @classmethod
    def _some_voices(cls, voices: list[VoiceInfo], info: ValidationInfo) -> list[VoiceInfo]:
        if not voices and info.data.get("list_voices") is False:
            raise ValueError("name at least one voice when list_voices is false")
        return voices
