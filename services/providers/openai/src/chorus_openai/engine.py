"""OpenAI's `POST /audio/speech` (or a compatible server's) streamed as 24 kHz PCM.

With `chunking: sentence` the text goes upstream one piece at a time (pipelined, see
pipeline.py), for servers that make a whole clip before sending any of it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    SynthesisRequest,
    TextChunking,
    UnknownVoice,
    VoiceInfo,
)
from chorus_openai.errors import OpenAIErrors
from chorus_openai.pipeline import pipelined
from chorus_openai.prosody import rate_as_speed, with_prosody
from chorus_openai.settings import OPENAI_VOICES, OpenAISettings
from chorus_openai.voices import upstream_voices
from chorus_provider import CancelSignal, Engine
from chorus_provider.vendor_http import open_stream, pcm_chunks
from chorus_provider.voice_reference import reference_wav
from chorus_text import speech_pieces

log = logging.getLogger("chorus.openai")

# How often a front waiting for its runtime to load asks again.
_HEALTH_POLL_S = 0.5

# The fields this provider sets; forwarded extras never override them.
_OWN_FIELDS = frozenset(
    {
        "model", "input", "voice", "response_format", "speed", "instructions",
        "task_type", "ref_audio", "ref_text",
    }
)  # fmt: skip

_PROSODY = ["prosody-rate", "prosody-pitch", "prosody-volume", "emphasis"]


class OpenAIEngine(Engine):
    """Streams the upstream's PCM through as it arrives; no work of its own but mapping."""

    settings_class = OpenAISettings

    def __init__(self, settings: OpenAISettings) -> None:
        self._settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self._errors = OpenAIErrors(key, settings.name)
        self._voices = list(settings.voices or OPENAI_VOICES)
        self._chunking = settings.text_chunking() if settings.chunking == "sentence" else None
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
        )

    async def load(self) -> None:
        """Wait for a runtime beside this front to load, when there is one; check the key, so
        a refused one shows as not-ready with the reason; then take the upstream's own voice
        list unless VOICES is set."""
        if self._settings.upstream_health_url is not None:
            await self._wait_for_upstream(self._settings.upstream_health_url)
        if self._settings.verify_key:
            await self._check_key()
        if self._settings.voices is None:
            listed = await upstream_voices(self._client)
            if listed:
                log.info("the upstream lists %d voices", len(listed))
                self._voices = listed

    async def _wait_for_upstream(self, health_url: str) -> None:
        """Until the upstream's health answers 200; no deadline of its own, as the start-up
        probe (or whoever started it) bounds how long a model may load."""
        log.info("waiting for the upstream to load: %s", health_url)
        # Another process's state, so polled: there is nothing in this one to wait on.
        while True:
            if await self._healthy(health_url):
                log.info("the upstream is ready")
                return
            await asyncio.sleep(_HEALTH_POLL_S)

    async def _healthy(self, health_url: str) -> bool:
        try:
            response = await self._client.get(health_url)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def _check_key(self) -> None:
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
            models=list(dict.fromkeys([*self._settings.models, *self._settings.model_map])),
            voices=[VoiceInfo(id=v, name=v.title()) for v in self._voices],
            languages=[],
            sample_rate=self._settings.sample_rate,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            instructions=self._settings.instructions,
            voice_cloning=self._settings.voice_cloning,
            speed_range=(0.25, 4.0),
            # Said in words to the models that take instructions, as a speed to the others.
            instructed_markup=_PROSODY if self._settings.instructions else [],
            normalizes_text=True,
            # The vendor's models are named by the request; the server answering them here.
            model_id=f"openai:{self._settings.base_url}:{self._settings.default_model}",
        )

    @property
    def chunking(self) -> TextChunking | None:
        return self._chunking

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        cloning = self._clones(request)
        if not cloning and request.voice not in self._voices:
            raise UnknownVoice(f"the upstream has no voice '{request.voice}'", param="voice")
        pieces = speech_pieces(request.text, self._chunking, request.language)
        if not pieces:
            raise InvalidRequest("text contains nothing to speak", param="text")
        stream: AsyncGenerator[bytes, None]
        if len(pieces) == 1:
            stream = self._fetch(request, pieces[0], cancel)
        else:
            stream = pipelined(
                pieces,
                lambda piece: self._fetch(request, piece, cancel),
                self._settings.chunk_lookahead,
            )
        # Closed with this generator: a client that leaves closes the upstream calls at once.
        async with aclosing(stream):
            async for chunk in stream:
                yield chunk

    async def _fetch(
        self, request: SynthesisRequest, text: str, cancel: CancelSignal
    ) -> AsyncGenerator[bytes, None]:
        # A cancelled request starts no further piece (those in flight are cancelled too).
        cancel.raise_if_set()
        call = self._client.build_request("POST", "/audio/speech", json=self._body(request, text))
        async with open_stream(self._client, call, self._errors) as response:
            async for chunk in pcm_chunks(response):
                yield chunk

    def _model(self, requested: str | None) -> str:
        """MODEL_MAP first, then a model the upstream is known to have, else the default."""
        if requested is None:
            return self._settings.default_model
        if requested in self._settings.model_map:
            return self._settings.model_map[requested]
        return requested if requested in self._settings.models else self._settings.default_model

    def _clones(self, request: SynthesisRequest) -> bool:
        return self._settings.voice_cloning and request.voice_reference is not None

    def _body(self, request: SynthesisRequest, text: str) -> dict[str, Any]:
        body: dict[str, Any] = dict(self._settings.extra_body)
        if self._settings.forward_extra:
            body.update({k: v for k, v in request.extra.items() if k not in _OWN_FIELDS})
        model = self._model(request.model)
        instructed = self._settings.instructions and model not in self._settings.speed_only_models
        body.update(
            model=model,
            input=text,
            response_format="pcm",
            # A model that takes instructions hears the text's rate in them instead.
            speed=request.speed if instructed else rate_as_speed(request.speed, request.segments),
        )
        if self._settings.task_type is not None:
            body["task_type"] = self._settings.task_type
        if self._clones(request):
            # The sample speaks; the request's voice name is the user's, not the upstream's.
            body.update(_reference_fields(request))
        else:
            body["voice"] = request.voice
        instructions = with_prosody(request.instructions, request.segments) if instructed else None
        if instructions:
            body["instructions"] = instructions
        return body

    async def close(self) -> None:
        await self._client.aclose()


def _reference_fields(request: SynthesisRequest) -> dict[str, str]:
    """`ref_audio` as the runtimes take an inline sample (a base64 data URL), and `ref_text`."""
    assert request.voice_reference is not None
    wav = reference_wav(request.voice_reference)
    fields = {"ref_audio": f"data:audio/wav;base64,{base64.b64encode(wav).decode()}"}
    if request.voice_reference_text:
        fields["ref_text"] = request.voice_reference_text
    return fields
