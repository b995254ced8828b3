"""Response bodies: OpenAI's `audio.voice` and `audio.voice_consent` objects, and the
management API's fuller view of a voice."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chorus_contracts import ResponseFormat
from chorus_router.voices.records import ConsentRecord, VoiceRecord


class VoiceObject(BaseModel):
    """OpenAI's `audio.voice`, as `client.audio.voices.create` parses it."""

    id: str
    object: Literal["audio.voice"] = "audio.voice"
    created_at: int
    name: str
    type: Literal["audio_sample"] = "audio_sample"

    @classmethod
    def of(cls, record: VoiceRecord) -> VoiceObject:
        return cls(id=record.id, created_at=record.created_at, name=record.name)


class VoiceDeleted(BaseModel):
    id: str
    object: Literal["audio.voice.deleted"] = "audio.voice.deleted"
    deleted: bool = True


class ManagedVoice(VoiceObject):
    """A voice as the management API shows it: the OpenAI fields plus what was stored."""

    description: str | None
    provider_hint: str | None
    consent: str
    duration_s: float
    sample_rate: int
    sample_sha256: str
    source_format: str
    source_codec: str
    source_channels: int
    stored_bytes: int

    @classmethod
    def of(cls, record: VoiceRecord) -> ManagedVoice:
        return cls(
            id=record.id,
            created_at=record.created_at,
            name=record.name,
            description=record.description,
            provider_hint=record.provider_hint,
            consent=record.consent_id,
            duration_s=round(record.duration_s, 3),
            sample_rate=record.sample_rate,
            sample_sha256=record.sample_sha256,
            source_format=record.container,
            source_codec=record.codec,
            source_channels=record.channels,
            stored_bytes=record.original_bytes + record.sample_bytes,
        )


class ManagedVoiceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ManagedVoice]


class ConsentObject(BaseModel):
    """OpenAI's `audio.voice_consent`."""

    id: str
    object: Literal["audio.voice_consent"] = "audio.voice_consent"
    created_at: int
    language: str
    name: str

    @classmethod
    def of(cls, record: ConsentRecord) -> ConsentObject:
        return cls(
            id=record.id, created_at=record.created_at, language=record.language, name=record.name
        )


class ConsentDeleted(BaseModel):
    id: str
    object: Literal["audio.voice_consent"] = "audio.voice_consent"
    deleted: bool = True


class ConsentList(BaseModel):
    """A cursor page, as the SDK's `SyncCursorPage` reads it."""

    object: Literal["list"] = "list"
    data: list[ConsentObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ConsentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class PreviewRequest(BaseModel):
    """An optional body for a preview; every field has a default."""

    model_config = ConfigDict(extra="forbid")

    input: str | None = Field(default=None, min_length=1, max_length=500)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    response_format: ResponseFormat = "mp3"
