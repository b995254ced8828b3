"""From a speech request to an open provider stream: candidates in order, first that answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from chorus_contracts import (
    ChorusError,
    ClientError,
    ServiceUnavailable,
    SpeechRequest,
    SynthesisRequest,
    UnknownModel,
    UnknownVoice,
)
from chorus_router.pool import ProviderHandle, ProviderPool
from chorus_router.upstream import ProviderStream, open_stream

log = logging.getLogger("chorus.router.routing")


@dataclass(frozen=True)
class Candidate:
    handle: ProviderHandle
    voice: str


class SpeechRouter:
    """Chooses providers for a request and opens the first stream that produces audio."""

    def __init__(self, pool: ProviderPool, client: httpx.AsyncClient) -> None:
        self._pool = pool
        self._client = client

    def plan(self, request: SpeechRequest) -> list[Candidate]:
        """Providers that could serve this model and voice, in the order to try them."""
        serving = self._pool.serving(request.model)
        if not serving:
            raise UnknownModel(
                f"The model '{request.model}' does not exist. Available models: "
                f"{', '.join(self._pool.models()) or 'none'}.",
                param="model",
            )
        candidates = []
        for handle in serving:
            voice = handle.engine_voice(request.voice_name)
            if voice is not None:
                candidates.append(Candidate(handle, voice))
        if not candidates:
            raise UnknownVoice(
                f"The voice '{request.voice_name}' is not available for model "
                f"'{request.model}'. See /api/v1/audio/voices/catalog for its voices.",
                param="voice",
            )
        return candidates

    async def open(self, request: SpeechRequest, request_id: str) -> ProviderStream:
        candidates = self.plan(request)
        failures: list[str] = []
        for candidate in candidates:
            synthesis = SynthesisRequest(
                text=request.input,
                voice=candidate.voice,
                model=request.model,
                speed=request.speed,
                language=request.lang_code,
                instructions=request.instructions,
                extra=request.extra_params,
                request_id=request_id,
            )
            try:
                return await open_stream(self._client, candidate.handle, synthesis)
            except ClientError:
                raise
            except ChorusError as exc:
                if not exc.retryable:
                    raise
                log.warning(
                    "provider %s failed (%s); trying the next", candidate.handle.name, exc.message
                )
                failures.append(f"{candidate.handle.name}: {exc.message}")
        raise ServiceUnavailable(
            f"all providers for model {request.model} are unavailable ({'; '.join(failures)})"
        )
