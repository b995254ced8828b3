"""OpenAI's `POST /audio/speech` (or a compatible server's) streamed as 24 kHz PCM."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from chorus_contracts import (
    Capabilities,
    SynthesisRequest,
    UnknownVoice,
    VoiceInfo,
)
from chorus_openai.errors import OpenAIErrors
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal, Engine
from chorus_provider.vendor_http import open_stream, pcm_chunks

log = logging.getLogger("chorus.openai")

# The fields this provider sets; forwarded extras never override them.
_OWN_FIELDS = frozenset({"model", "input", "voice", "response_format", "speed", "instructions"})


class OpenAIEngine(Engine):
    """Streams the upstream's PCM through as it arrives; no work of its own but mapping."""

    def __init__(self, settings: OpenAISettings) -> None:
        self._settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self._errors = OpenAIErrors(key)
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
        )

    async def load(self) -> None:
        """Check the key once, so a refused one shows as not-ready with the reason."""
        if not self._settings.verify_key:
            return
        try:
            response = await self._client.get("/models")
        except httpx.HTTPError as exc:
            log.warning("could not reach the upstream to check the key: %s", type(exc).__name__)
            return
        if response.status_code in (401, 403):
            raise self._errors(response.status_code, response.content, None)
        if not response.is_success:
            log.warning("upstream key check answered HTTP %d; going on", response.status_code)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._settings.name,
            engine="openai",
            models=self._settings.models,
            voices=[VoiceInfo(id=v, name=v.title()) for v in self._settings.voices],
            languages=[],
            sample_rate=self._settings.sample_rate,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            instructions=self._settings.instructions,
            speed_range=(0.25, 4.0),
            normalizes_text=True,
            # The vendor's models are named by the request; the server answering them here.
            model_id=f"openai:{self._settings.base_url}:{self._settings.default_model}",
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        call = self._client.build_request("POST", "/audio/speech", json=self._body(request))
        async with open_stream(self._client, call, self._errors) as response:
            async for chunk in pcm_chunks(response):
                yield chunk

    def _body(self, request: SynthesisRequest) -> dict[str, Any]:
        if request.voice not in self._settings.voices:
            raise UnknownVoice(f"the upstream has no voice '{request.voice}'", param="voice")
        model = request.model if request.model in self._settings.models else None
        body: dict[str, Any] = {}
        if self._settings.forward_extra:
            body.update({k: v for k, v in request.extra.items() if k not in _OWN_FIELDS})
        body.update(
            model=model or self._settings.default_model,
            input=request.text,
            voice=request.voice,
            response_format="pcm",
            speed=request.speed,
        )
        if request.instructions and self._settings.instructions:
            body["instructions"] = request.instructions
        return body

    async def close(self) -> None:
        await self._client.aclose()
