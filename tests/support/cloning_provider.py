"""A voice-cloning provider for tests, built by the real app factory and run as a process.

It speaks only with a reference sample: a pure tone whose pitch is derived from the sample's
SHA-256, so a test can tell from the audio alone which sample was used. `GET /received` lists
what it was sent (hash, rate, channels, sample width, duration of each reference WAV), and
never the audio itself. Run it with `python -m support.cloning_provider` (env prefix
CHORUS_CLONING_).
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import wave
from collections.abc import AsyncIterator

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from chorus_contracts import Capabilities, InvalidRequest, SynthesisRequest, VoiceInfo
from chorus_provider import (
    CancelSignal,
    Engine,
    ProviderSettings,
    create_provider_app,
    split_sentences,
)
from chorus_provider.serve import config_path_from_args

RATE = 16_000


def pitch_of(sha256: str) -> int:
    """The tone (Hz, a multiple of 20 from 300 to 1280) this provider speaks a sample in."""
    return 300 + int(sha256[:8], 16) % 50 * 20


class CloningSettings(ProviderSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_CLONING_", extra="forbid")

    name: str = "cloner"
    models: list[str] = ["clone"]
    seconds_per_word: float = 0.15
    # Unset: the router never caches this provider's audio (tests count what it receives).
    model_id: str | None = None


class Received(BaseModel):
    """What one reference sample looked like when it arrived."""

    sha256: str
    sample_rate: int
    channels: int
    sample_width: int
    duration_s: float
    voice: str
    voice_reference_text: str | None


class CloningEngine(Engine):
    def __init__(self, settings: CloningSettings) -> None:
        self._settings = settings
        self.received: list[Received] = []

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._settings.name,
            engine="tone-clone",
            models=self._settings.models,
            voices=[VoiceInfo(id="clone", name="Cloned voice")],
            languages=["en"],
            sample_rate=RATE,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            voice_cloning=True,
            model_id=self._settings.model_id,
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        if request.voice_reference is None:
            raise InvalidRequest("this provider speaks only cloned voices", param="voice_reference")
        wav = base64.b64decode(request.voice_reference, validate=True)
        sha256 = hashlib.sha256(wav).hexdigest()
        with wave.open(io.BytesIO(wav)) as reader:
            self.received.append(
                Received(
                    sha256=sha256,
                    sample_rate=reader.getframerate(),
                    channels=reader.getnchannels(),
                    sample_width=reader.getsampwidth(),
                    duration_s=reader.getnframes() / reader.getframerate(),
                    voice=request.voice,
                    voice_reference_text=request.voice_reference_text,
                )
            )
        for sentence in split_sentences(request.text):
            seconds = len(sentence.split()) * self._settings.seconds_per_word / request.speed
            yield _tone(pitch_of(sha256), seconds)


def _tone(frequency: float, seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (12_000 * np.sin(2 * math.pi * frequency * t)).astype("<i2").tobytes()


def build_app(settings: CloningSettings) -> FastAPI:
    engine = CloningEngine(settings)
    app = create_provider_app(engine, settings)

    @app.get("/received")
    async def received() -> list[Received]:
        return engine.received

    return app


def main() -> None:
    import uvicorn

    settings = CloningSettings.load(config_path_from_args("Chorus voice-cloning test provider"))
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
