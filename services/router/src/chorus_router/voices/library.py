"""The voice library: uploads in, validated and processed, out to the store; references out.

Decoding and database calls block, so they run in worker threads; a semaphore bounds how
many uploads are held in memory and decoded at once.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from chorus_contracts import decode_voice_reference
from chorus_router.voices.processing import process
from chorus_router.voices.records import ConsentRecord, NewVoice, Quotas, VoiceRecord
from chorus_router.voices.settings import VoiceSettings
from chorus_router.voices.store import VoiceStore
from chorus_router.voices.uploads import UploadForm, read_upload
from chorus_router.voices.validation import validate_audio


@dataclass(frozen=True)
class VoiceDraft:
    """The text fields of a voice upload, already cleaned."""

    name: str
    description: str | None
    provider_hint: str | None
    consent_id: str


class VoiceLibrary:
    """What the handlers use: the store, and the steps that must precede every write."""

    def __init__(self, store: VoiceStore, settings: VoiceSettings) -> None:
        self.store = store
        self.settings = settings
        self._uploads = asyncio.Semaphore(settings.max_concurrent_uploads)

    @classmethod
    def over(cls, engine: Engine, settings: VoiceSettings) -> VoiceLibrary:
        """The library on the (migrated) shared database."""
        quotas = Quotas(settings.max_voices_per_user, settings.max_bytes_per_user)
        return cls(VoiceStore(engine, quotas), settings)

    @asynccontextmanager
    async def upload(self, request: Request, file_field: str) -> AsyncIterator[UploadForm]:
        """The request's form, read and held while the caller stores it (one upload slot)."""
        async with self._uploads:
            yield await read_upload(
                request, frozenset({file_field}), self.settings.max_upload_bytes
            )

    async def add_voice(
        self, owner: str, draft: VoiceDraft, audio: bytes, param: str
    ) -> VoiceRecord:
        """Validate and process `audio`, then store it as the owner's voice."""
        new = await asyncio.to_thread(self._prepare, draft, audio, param)
        return await asyncio.to_thread(self.store.add_voice, owner, new)

    async def add_consent(
        self, owner: str, name: str, language: str, recording: bytes, param: str
    ) -> ConsentRecord:
        """Validate a consent recording and store it as it came."""
        await asyncio.to_thread(validate_audio, recording, self.settings, param)
        return await asyncio.to_thread(self.store.add_consent, owner, name, language, recording)

    async def stored_reference(self, owner: str, voice_id: str) -> str:
        """The owner's processed sample for `voice_id`, base64 for the provider contract."""
        _, sample = await asyncio.to_thread(self.store.sample, owner, voice_id)
        return base64.b64encode(sample).decode("ascii")

    async def inline_reference(self, encoded: str) -> str:
        """A `voice_reference` sent with a speech request, validated and processed the same
        way as an upload, base64 again."""
        audio = decode_voice_reference(encoded)
        return await asyncio.to_thread(self._processed_reference, audio)

    def _prepare(self, draft: VoiceDraft, audio: bytes, param: str) -> NewVoice:
        validated = validate_audio(audio, self.settings, param)
        return NewVoice(
            name=draft.name,
            description=draft.description,
            provider_hint=draft.provider_hint,
            consent_id=draft.consent_id,
            container=validated.container,
            codec=validated.codec,
            channels=validated.channels,
            original=audio,
            sample=process(validated, self.settings.reference_sample_rate),
        )

    def _processed_reference(self, audio: bytes) -> str:
        validated = validate_audio(audio, self.settings, "voice_reference")
        sample = process(validated, self.settings.reference_sample_rate)
        return base64.b64encode(sample.wav).decode("ascii")
