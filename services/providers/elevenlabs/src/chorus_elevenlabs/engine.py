"""ElevenLabs' streaming text-to-speech as PCM at the configured rate, in the account's voices
or in a clone of the request's reference sample, with the request's lexicon entries as a
pronunciation dictionary (dictionaries.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any
from urllib.parse import quote

import httpx

from chorus_contracts import (
    Capabilities,
    ChorusError,
    InvalidRequest,
    ProviderMisconfigured,
    SynthesisRequest,
    UnknownVoice,
    VoiceCloningUnsupported,
    VoiceInfo,
)
from chorus_elevenlabs.cloning import Reference, VoiceClones, is_clone
from chorus_elevenlabs.dictionaries import Locator, PronunciationDictionaries
from chorus_elevenlabs.errors import DictionaryNotFound, ElevenLabsErrors
from chorus_elevenlabs.options import MAX_SPEED, MIN_SPEED, ElevenLabsOptions, parse_options
from chorus_elevenlabs.settings import ElevenLabsSettings
from chorus_elevenlabs.voices import list_voices, merge
from chorus_provider import CancelSignal, Engine
from chorus_provider.vendor_http import open_stream, pcm_chunks
from chorus_text.ssml import join_words

log = logging.getLogger("chorus.elevenlabs")

# The longest pause one ElevenLabs `<break>` tag holds.
MAX_BREAK_S = 3.0


class ElevenLabsEngine(Engine):
    """Streams ElevenLabs' PCM through as it arrives, in the account's own voices or a clone."""

    settings_class = ElevenLabsSettings

    def __init__(self, settings: ElevenLabsSettings) -> None:
        self._settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self._errors = ElevenLabsErrors(key, settings.name)
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            headers={"xi-api-key": key} if key else {},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
        )
        self._voices: list[VoiceInfo] = list(settings.voices)
        self._clones = VoiceClones(self._client, self._errors, settings.clone_cache_size)
        self._dictionaries = PronunciationDictionaries(
            self._client, self._errors, settings.dictionary_cache_size
        )

    async def load(self) -> None:
        """List the account's voices; a refused key fails start-up with the reason."""
        while self._settings.list_voices:
            try:
                listed = await list_voices(self._client, self._errors)
            except ProviderMisconfigured:
                raise
            except ChorusError as exc:
                if self._voices:
                    log.warning("cannot list voices (%s); using the configured ones", exc.message)
                    return
                log.warning(
                    "cannot list voices (%s); retrying in %gs",
                    exc.message,
                    self._settings.voice_list_retry_s,
                )
                await asyncio.sleep(self._settings.voice_list_retry_s)
                continue
            # Clones are users' custom voices: reachable only through their reference sample.
            own = [voice for voice in listed if not is_clone(voice.name)]
            self._voices = merge(own, self._settings.voices)
            log.info("ElevenLabs offers %d voices", len(self._voices))
            return

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._settings.name,
            engine="elevenlabs",
            models=self._settings.models,
            voices=self._voices,
            languages=[],
            sample_rate=self._settings.sample_rate,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            voice_cloning=self._settings.voice_cloning,
            speed_range=(MIN_SPEED, MAX_SPEED),
            normalizes_text=True,
            markup=["break"],
            pronunciation_dictionary=True,
            model_id=f"elevenlabs:{self._settings.base_url}:{self._settings.default_model}",
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        body = self._body(request)
        async with AsyncExitStack() as stack:
            response = await self._open(stack, request, body)
            async for chunk in pcm_chunks(response):
                yield chunk

    async def _open(
        self, stack: AsyncExitStack, request: SynthesisRequest, body: dict[str, Any]
    ) -> httpx.Response:
        """The TTS stream, with the request's pronunciation dictionary; one made again when
        the vendor lost it (another replica's account clean-up, a reset)."""
        locator = await self._name_dictionary(request, body)
        try:
            return await self._open_voice(stack, request, body)
        except DictionaryNotFound:
            if locator is None:
                raise
            self._dictionaries.forget(locator)
            await self._name_dictionary(request, body)
            return await self._open_voice(stack, request, body)

    async def _name_dictionary(
        self, request: SynthesisRequest, body: dict[str, Any]
    ) -> Locator | None:
        """Names the dictionary of the request's lexicon entries in `body`, made if new."""
        if request.pronunciations is None:
            return None
        phonemes = body["model_id"] in self._settings.phoneme_models
        locator = await self._dictionaries.locator_for(request.pronunciations, phonemes)
        if locator is not None:
            body["pronunciation_dictionary_locators"] = [locator.model_dump()]
        return locator

    async def _open_voice(
        self, stack: AsyncExitStack, request: SynthesisRequest, body: dict[str, Any]
    ) -> httpx.Response:
        if request.voice_reference is None:
            return await stack.enter_async_context(self._speak(request.voice, body))
        return await self._speak_cloned(stack, request.voice_reference, body)

    async def _speak_cloned(
        self, stack: AsyncExitStack, voice_reference: str, body: dict[str, Any]
    ) -> httpx.Response:
        """Speak in the sample's clone; the request's voice (a Chorus voice id) is not used."""
        if not self._settings.voice_cloning:
            raise VoiceCloningUnsupported(
                "this ElevenLabs provider does not clone voices (CHORUS_ELEVENLABS_VOICE_CLONING)",
                param="voice_reference",
            )
        reference = Reference.decode(voice_reference)
        voice_id = await self._clones.voice_for(reference)
        try:
            return await stack.enter_async_context(self._speak(voice_id, body))
        except UnknownVoice:
            # Deleted since (another replica made room for its own clone): clone it again.
            self._clones.forget(reference, voice_id)
            voice_id = await self._clones.voice_for(reference)
            return await stack.enter_async_context(self._speak(voice_id, body))

    def _speak(
        self, voice_id: str, body: dict[str, Any]
    ) -> AbstractAsyncContextManager[httpx.Response]:
        call = self._client.build_request(
            "POST",
            f"/v1/text-to-speech/{quote(voice_id, safe='')}/stream",
            params=self._query(),
            json=body,
        )
        return open_stream(self._client, call, self._errors)

    def _query(self) -> dict[str, str | int]:
        query: dict[str, str | int] = {"output_format": f"pcm_{self._settings.sample_rate}"}
        if self._settings.optimize_streaming_latency is not None:
            query["optimize_streaming_latency"] = self._settings.optimize_streaming_latency
        return query

    def _body(self, request: SynthesisRequest) -> dict[str, Any]:
        options = parse_options(request.extra)
        listed_model = request.model if request.model in self._settings.models else None
        body: dict[str, Any] = {
            "text": with_breaks(request),
            "model_id": options.model_id or listed_model or self._settings.default_model,
        }
        voice_settings = _voice_settings(options, request.speed)
        if voice_settings:
            body["voice_settings"] = voice_settings
        if options.seed is not None:
            body["seed"] = options.seed
        if options.apply_text_normalization:
            body["apply_text_normalization"] = options.apply_text_normalization
        if request.language:
            # ElevenLabs takes ISO 639-1: the primary subtag of `en-US`.
            body["language_code"] = request.language.replace("_", "-").split("-")[0].lower()
        return body

    async def close(self) -> None:
        await self._client.aclose()


def with_breaks(request: SynthesisRequest) -> str:
    """The request's words with its markup's pauses as ElevenLabs' own `<break>` tags (each
    at most 3 s, so a longer pause is several); the text alone when it has no segments."""
    if request.segments is None:
        return request.text
    parts = []
    for segment in request.segments:
        if segment.text:
            parts.append(segment.text)
        pause = segment.pause_ms / 1000
        while pause > 0:
            parts.append(f'<break time="{min(pause, MAX_BREAK_S):g}s" />')
            pause -= MAX_BREAK_S
    return join_words(parts)


def _voice_settings(options: ElevenLabsOptions, speed: float) -> dict[str, Any]:
    """The client's voice settings; the request's speed fills in when they name none."""
    settings = (
        options.voice_settings.model_dump(exclude_none=True) if options.voice_settings else {}
    )
    if "speed" in settings or speed == 1.0:
        return settings
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidRequest(
            f"ElevenLabs speaks at speeds from {MIN_SPEED:g} to {MAX_SPEED:g}, not {speed:g}",
            param="speed",
        )
    return {**settings, "speed": speed}
