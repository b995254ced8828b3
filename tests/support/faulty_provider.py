"""A provider process built by the real app factory around an engine a test can break.

The engine speaks a pure tone per sentence (its voice `low` is 220 Hz, `high` 440 Hz) and
obeys `POST /control`: answer the next N requests with an error status (or with a 404 that is
not in the contract's shape), break the stream after some chunks, or stall before the first
chunk. Run it with `python -m
support.faulty_provider` (env prefix CHORUS_FAULTY_).
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_contracts import (
    Capabilities,
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ServiceUnavailable,
    SynthesisRequest,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
    VoiceInfo,
)
from chorus_contracts.drain import serve_draining
from chorus_provider import (
    CancelSignal,
    Engine,
    ProviderSettings,
    create_provider_app,
    split_sentences,
)
from chorus_provider.serve import config_path_from_args
from chorus_telemetry import configure_logging, setup_tracing

RATE = 16_000
FREQUENCIES = {"low": 220.0, "high": 440.0}
_ERRORS: dict[int, type[ChorusError]] = {
    400: InvalidRequest,
    429: ProviderBusy,
    502: UpstreamError,
    503: ServiceUnavailable,
    504: UpstreamTimeout,
}


class FaultySettings(ProviderSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_FAULTY_", extra="forbid")

    name: str = "faulty"
    seconds_per_word: float = 0.1
    work_per_sentence_s: float = 0.02
    # Unset: the router never caches this provider's audio (tests count its requests).
    model_id: str | None = None


class Faults(BaseModel):
    """What the next requests should suffer; counts run down as requests arrive."""

    fail_status: int | None = None
    # Requests served well before the failures start.
    pass_count: int = Field(default=0, ge=0)
    fail_count: int = Field(default=0, ge=0)
    retry_after: float | None = None
    break_after_chunks: int | None = None
    break_count: int = Field(default=0, ge=0)
    stall_s: float = 0.0
    # Answer synthesis with what a wrong path behind an ingress gives: FastAPI's own 404.
    foreign_404_count: int = Field(default=0, ge=0)


class ToneEngine(Engine):
    def __init__(self, settings: FaultySettings) -> None:
        self._settings = settings
        self.faults = Faults()

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._settings.name,
            engine="tone",
            models=["tone"],
            voices=[VoiceInfo(id=v, name=v) for v in FREQUENCIES],
            languages=["en"],
            sample_rate=RATE,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            model_id=self._settings.model_id,
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        faults = self.faults
        if faults.pass_count and faults.fail_count:
            faults.pass_count -= 1
        elif faults.fail_count and faults.fail_status:
            faults.fail_count -= 1
            raise _ERRORS[faults.fail_status](
                f"told to fail with {faults.fail_status}", retry_after=faults.retry_after
            )
        if request.voice not in FREQUENCIES:
            raise UnknownVoice(f"no voice {request.voice}", param="voice")
        break_after = None
        if faults.break_count and faults.break_after_chunks is not None:
            faults.break_count -= 1
            break_after = faults.break_after_chunks
        if faults.stall_s:
            await asyncio.sleep(faults.stall_s)
        for index, sentence in enumerate(split_sentences(request.text)):
            if break_after is not None and index >= break_after:
                raise RuntimeError("told to break mid-stream")
            await asyncio.sleep(self._settings.work_per_sentence_s)
            seconds = len(sentence.split()) * self._settings.seconds_per_word / request.speed
            yield _tone(FREQUENCIES[request.voice], seconds)


def _tone(frequency: float, seconds: float) -> bytes:
    count = int(RATE * seconds)
    return struct.pack(
        f"<{count}h",
        *(int(12_000 * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(count)),
    )


class _ForeignAnswers:
    """Answers synthesis like a wrong path behind an ingress, while the fault lasts.

    Plain ASGI: Starlette's BaseHTTPMiddleware would complete a stream the engine broke.
    """

    def __init__(self, app: ASGIApp, engine: ToneEngine) -> None:
        self._app = app
        self._engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self._engine.faults
        synthesis = scope["type"] == "http" and scope["path"] == "/v1/synthesize"
        if synthesis and faults.foreign_404_count:
            faults.foreign_404_count -= 1
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        await self._app(scope, receive, send)


def build_app(settings: FaultySettings) -> FastAPI:
    engine = ToneEngine(settings)
    app = create_provider_app(engine, settings, setup_tracing(f"chorus-{settings.name}"))

    @app.post("/control")
    async def control(faults: Faults) -> Faults:
        engine.faults = faults
        return faults

    app.add_middleware(_ForeignAnswers, engine=engine)

    return app


def main() -> None:
    settings = FaultySettings.load(config_path_from_args("Chorus fault-injection provider"))
    configure_logging(settings.name, "warning")
    app = build_app(settings)
    # Served as every provider is: SIGTERM drains.
    serve_draining(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
