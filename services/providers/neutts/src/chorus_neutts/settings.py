"""NeuTTS provider settings: `CHORUS_NEUTTS_*`, or the YAML file given by `--config`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_torch import TorchSettings


class NeuTTSSettings(TorchSettings):
    """The backbone is `model_path` (a transformers model directory), else `model_repo`
    from the offline Hugging Face cache, else `backbone_gguf` (a `.gguf` file, run by
    llama.cpp). `codec` is one of the NeuCodec repo ids NeuTTS accepts (read from the
    Hugging Face cache) or a `.onnx` decoder file.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_NEUTTS_", extra="forbid")

    name: str = "neutts"
    port: int = Field(default=8105, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["neutts"])
    model_repo: str | None = Field(default="neuphonic/neutts-air", pattern=r"^[\w.-]+/[\w.-]+$")
    # NeuTTS loads its backbone in bfloat16 and its codec in float32 itself.
    dtype: Literal["auto"] = "auto"
    backbone_gguf: Path | None = None
    codec: str = Field(default="neuphonic/neucodec", min_length=1)
    # The espeak-ng language of the backbone's phonemes (neutts-air: en-us).
    language: str = Field(default="en-us", min_length=1, max_length=16)
    # Built-in voices: `<name>.pt` (NeuCodec codes) or `<name>.wav`, each with `<name>.txt`
    # holding what the sample says. None means the samples shipped inside the neutts package.
    voices_dir: Path | None = None
    default_voice: str = Field(default="emily", min_length=1)
    # Generation bound: NeuCodec makes 50 codes a second, speech runs ~15 characters a
    # second, so 8 codes a character leaves room; the package itself stops only at its
    # 2048-token context. It always makes at least 50.
    codes_per_char: float = Field(default=8.0, gt=0, le=100)
    min_codes: int = Field(default=64, ge=50, le=2048)
    max_reference_s: float = Field(default=15.0, gt=0, le=60)
    temperature: float = Field(default=1.0, gt=0, le=2)
    top_k: int = Field(default=50, ge=1, le=1000)
