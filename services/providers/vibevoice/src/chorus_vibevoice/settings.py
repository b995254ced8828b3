from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_torch import TorchSettings


class VibeVoiceSettings(TorchSettings):
    """VibeVoice from `model_path` (or `model_repo` in the HF cache), never downloaded.

    The acoustic tokenizer is part of the checkpoint; the diffusion noise scheduler is the
    one its generation config names (built by `diffusers`).
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_VIBEVOICE_", extra="forbid")

    name: str = "vibevoice"
    port: int = Field(default=8111, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["vibevoice"], min_length=1)
    # Long-form is what VibeVoice is for: podcasts of many minutes in one generation.
    max_text_length: int = Field(default=20_000, ge=1, le=200_000)
    languages: list[str] = Field(default_factory=lambda: ["en", "zh"], min_length=1)
    # The released checkpoints were trained with up to four speakers.
    # The router's custom voices are 3-60 s; a longer reference only lengthens the prompt.
    max_reference_s: float = Field(default=60.0, gt=0, le=600)
    max_speakers: int = Field(default=4, ge=1, le=16)
    # Generation stops at the model's end of speech, or at this budget: a generous speaking
    # time per character of text, never above `max_audio_s`.
    max_audio_s: float = Field(default=1800.0, gt=0, le=6000)
    seconds_per_char: float = Field(default=0.15, gt=0, le=5)
    diffusion_steps: int = Field(default=10, ge=1, le=100)
    guidance_scale: float = Field(default=1.3, ge=1.0, le=10)
    # Each frame is already audio (the model decodes it with its streaming codec), so
    # windows need no overlap: 3 frames are 0.4 s.
    stream_window_frames: int = Field(default=3, ge=1, le=4096)
    stream_context_frames: int = Field(default=0, ge=0, le=1024)
