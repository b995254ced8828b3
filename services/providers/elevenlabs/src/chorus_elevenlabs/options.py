"""What a client may tune per request through `extra_params`, checked before any upstream call.

Keys other than these are left alone: `extra_params` is one bag for every provider in a
fallback chain, so a key meant for another provider is not this one's error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chorus_provider.extra_params import parse_extra_params

MIN_SPEED, MAX_SPEED = 0.7, 1.2


class VoiceSettings(BaseModel):
    """ElevenLabs' `voice_settings`, overriding the voice's stored ones for one request."""

    model_config = ConfigDict(extra="forbid")

    stability: float | None = Field(default=None, ge=0, le=1)
    similarity_boost: float | None = Field(default=None, ge=0, le=1)
    style: float | None = Field(default=None, ge=0, le=1)
    use_speaker_boost: bool | None = None
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)


class ElevenLabsOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_id: str | None = Field(default=None, min_length=1, max_length=100)
    voice_settings: VoiceSettings | None = None
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    apply_text_normalization: Literal["auto", "on", "off"] | None = None


def parse_options(extra: dict[str, Any]) -> ElevenLabsOptions:
    return parse_extra_params(ElevenLabsOptions, extra)
