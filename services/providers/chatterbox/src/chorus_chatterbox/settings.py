"""Chatterbox provider settings: `CHORUS_CHATTERBOX_*`, or the YAML file given by `--config`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_torch import TorchSettings


class ChatterboxSettings(TorchSettings):
    """`model_path` is a directory in the layout `from_local` reads (English:
    ve/t3_cfg/s3gen `.safetensors`, `tokenizer.json`, optional `conds.pt`, the built-in
    voice); else `model_repo` from the offline Hugging Face cache. `multilingual` loads
    `ChatterboxMultilingualTTS` (point the weights at its files) instead.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_CHATTERBOX_", extra="forbid")

    name: str = "chatterbox"
    port: int = Field(default=8104, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["chatterbox"])
    model_repo: str | None = Field(default="ResembleAI/chatterbox", pattern=r"^[\w.-]+/[\w.-]+$")
    # The package runs its modules in float32 and casts nothing itself.
    dtype: Literal["auto", "float32"] = "auto"
    multilingual: bool = False
    # Language when a request names none (multilingual model only).
    language: str = Field(default="en", min_length=2, max_length=8)
    # Speech-token budget per sentence: S3 tokens run at 25 a second and speech at about
    # 15 characters a second, so 4 tokens a character leaves room; the package's own cap
    # is 1000 tokens (40 s).
    tokens_per_char: float = Field(default=4.0, gt=0, le=50)
    min_tokens: int = Field(default=50, ge=1, le=1000)
    # The package keeps 10 s of a reference for S3Gen and 6 s for T3's prompt.
    max_reference_s: float = Field(default=60.0, gt=0, le=300)
