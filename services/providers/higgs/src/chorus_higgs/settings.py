from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_torch import TorchSettings


class HiggsSettings(TorchSettings):
    """Higgs Audio v2 from `model_path` (or `model_repo` in the HF cache), never downloaded.

    The audio tokenizer (codec) is a checkpoint of its own: `codec_path` when set (a local
    directory), else the reference in the checkpoint's `processor_config.json` (a released
    checkpoint names its Hub repo, looked up in the HF cache offline).
    `instructions` become the scene description; without them `scene` is used.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_HIGGS_", extra="forbid")

    name: str = "higgs"
    port: int = Field(default=8110, ge=1, le=65535)
    codec_path: Path | None = None
    # Generations that share each decoding step (chorus_torch.batching); more wait in
    # `max_queue`. Each adds its KV cache, so memory bounds it on a large checkpoint.
    max_concurrency: int = Field(default=8, ge=1, le=64)
    models: list[str] = Field(default_factory=lambda: ["higgs-audio-v2"], min_length=1)
    # The checkpoint's context holds the prompt, the reference's codes and the audio made.
    max_text_length: int = Field(default=2000, ge=1, le=20_000)
    languages: list[str] = Field(default_factory=lambda: ["en", "zh"], min_length=1)
    system_prompt: str = Field(
        default="Generate audio following instruction.", min_length=1, max_length=2000
    )
    scene: str = Field(default="Audio is recorded from a quiet room.", max_length=2000)
    # The router's custom voices are 3-60 s; a longer reference only lengthens the prompt.
    max_reference_s: float = Field(default=60.0, gt=0, le=600)
    max_instructions_chars: int = Field(default=1000, ge=1, le=10_000)
    # Generation stops at the model's end of audio, or at this budget: a generous speaking
    # time per character of text, never above `max_audio_s`.
    max_audio_s: float = Field(default=300.0, gt=0, le=1800)
    seconds_per_char: float = Field(default=0.15, gt=0, le=5)
    # Sampling as Boson AI's own examples run it, with their repetition-aware resampling.
    temperature: float = Field(default=0.3, gt=0, le=2)
    top_p: float = Field(default=0.95, gt=0, le=1)
    top_k: int = Field(default=50, ge=1, le=1024)
    ras_window: int = Field(default=7, ge=0, le=100)
    ras_max_repeat: int = Field(default=2, ge=1, le=100)
    # 25 codec frames are one second of audio.
    stream_window_frames: int = Field(default=25, ge=1, le=4096)
    stream_context_frames: int = Field(default=8, ge=0, le=1024)
