"""The `voices` block of the router's settings (YAML `voices:`, env CHORUS_ROUTER_VOICES__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIB = 1024 * 1024


class VoiceSettings(BaseModel):
    """Limits on uploads and on what each user may keep, and how references are prepared."""

    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int = Field(default=10 * MIB, ge=1024, le=64 * MIB)
    min_duration_s: float = Field(default=3.0, gt=0, le=600)
    max_duration_s: float = Field(default=60.0, gt=0, le=300)
    max_channels: int = Field(default=2, ge=1, le=8)
    # The rate of the mono WAV handed to cloning providers (instant-cloning APIs take 16-48 kHz).
    reference_sample_rate: int = Field(default=24_000, ge=8_000, le=48_000)
    max_voices_per_user: int = Field(default=20, ge=1, le=10_000)
    # Originals, processed samples and consent recordings all count.
    max_bytes_per_user: int = Field(default=200 * MIB, ge=MIB, le=100 * 1024 * MIB)
    # Uploads decoded at once; further ones wait, so memory stays bounded.
    max_concurrent_uploads: int = Field(default=4, ge=1, le=64)
    preview_text: str = Field(
        default="Hello! This is a preview of my custom voice.", min_length=1, max_length=500
    )

    @model_validator(mode="after")
    def _durations_ordered(self) -> VoiceSettings:
        if self.min_duration_s >= self.max_duration_s:
            raise ValueError("min_duration_s must be below max_duration_s")
        return self
