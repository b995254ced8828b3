"""Dia's settings: the torch base's plus the codec's location and generation limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_torch import TorchSettings


class DiaSettings(TorchSettings):
    """Nari Labs' Dia-1.6B by default, with the DAC codec its processor names.

    The codec comes from `codec_path`, else a `codec/` folder inside the model directory,
    else the Hugging Face cache by the repo the model's processor config names
    (`descript/dac_44khz` for Dia-1.6B). Sampling defaults come from the model's own
    generation_config.json; requests may override them within bounds (`extra`).
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_DIA_", extra="forbid")

    name: str = "dia"
    port: int = Field(default=8105, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["dia"], min_length=1)
    model_repo: str | None = Field(default="nari-labs/Dia-1.6B-0626", pattern=r"^[\w.-]+/[\w.-]+$")
    codec_path: Path | None = None
    # Generations that share each decoding step (chorus_torch.batching); more wait in
    # `max_queue`. Each adds two rows of KV cache (guidance), so memory bounds it.
    max_concurrency: int = Field(default=8, ge=1, le=64)
    codec_revision: str | None = Field(default=None, min_length=1, max_length=100)
    # Dia makes one clip per request; past ~20-30 s of speech its quality drops, and its
    # decoder holds 3072 frames (~35 s at 86 frames/s).
    max_text_length: int = Field(default=600, ge=1, le=10_000)
    max_new_tokens: int = Field(default=3072, ge=16, le=3072)
    # Reference audio is encoded into frames that count against the same 3072.
    max_reference_s: float = Field(default=20.0, gt=0, le=60)
