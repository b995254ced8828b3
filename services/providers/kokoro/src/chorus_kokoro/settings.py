from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_provider import ProviderSettings

# Kokoro v1.0's languages that espeak-ng phonemizes well; Japanese and Mandarin need their
# own G2P (misaki), so they are left out unless an operator lists them.
DEFAULT_LANGUAGES = ["en-us", "en-gb", "es", "fr-fr", "hi", "it", "pt-br"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_cache_dir("chorus")) / "kokoro"


class KokoroSettings(ProviderSettings):
    """`model_path`/`voices_path` unset mean Kokoro-82M int8 and the voices shipped on PyPI.

    The default model is assembled once into `data_dir`, which must be writable.
    """

    model_config = SettingsConfigDict(env_prefix="CHORUS_KOKORO_", extra="forbid")

    name: str = "kokoro"
    port: int = Field(default=8103, ge=1, le=65535)
    models: list[str] = Field(default_factory=lambda: ["kokoro"])
    model_path: Path | None = None
    voices_path: Path | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    lang: str = Field(default="en-us", min_length=1, max_length=16)
    languages: list[str] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES), min_length=1)
    threads: int | None = Field(default=None, ge=1, le=256)
    execution_provider: Literal["auto", "cpu", "cuda"] = "auto"
    sentence_pause_s: float = Field(default=0.2, ge=0, le=5)
