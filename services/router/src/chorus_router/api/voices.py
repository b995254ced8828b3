"""Custom-voice routes: OpenAI's `/v1/audio/voices` and `/v1/audio/voice_consents`, and the
management API under `/api/v1/audio/voices`. Every route is scoped to the caller: another
user's voice or consent is a 404, exactly like one that does not exist."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from chorus_contracts import InvalidRequest
from chorus_router.api.caller import owner_of
from chorus_router.api.services import RouterServices, get_services
from chorus_router.api.voice_preview import speak_preview
from chorus_router.audit import AuditAction, AuditEntry, audited
from chorus_router.identity import Scope
from chorus_router.routing.registry import NAME_PATTERN
from chorus_router.security import RouteClass, rate_limited, require
from chorus_router.voices.library import VoiceDraft
from chorus_router.voices.settings import VoiceSettings
from chorus_router.voices.uploads import FORM_OVERHEAD_BYTES, UploadForm
from chorus_router.voices.validation import clean_language, clean_name, clean_text
from chorus_router.voices.views import (
    ConsentDeleted,
    ConsentList,
    ConsentObject,
    ConsentUpdate,
    ManagedVoice,
    ManagedVoiceList,
    PreviewRequest,
    VoiceDeleted,
    VoiceObject,
)

router = APIRouter(dependencies=[Depends(require(Scope.VOICES))])
_UPLOAD_LIMIT = [Depends(rate_limited(RouteClass.UPLOAD))]

Owner = Annotated[str, Depends(owner_of)]
Services = Annotated[RouterServices, Depends(get_services)]
VoicePath = Annotated[str, Path(min_length=1, max_length=64)]
ConsentPath = Annotated[str, Path(min_length=1, max_length=64)]
_PROVIDER_NAME = re.compile(NAME_PATTERN)
OPENAI_VOICES = "/v1/audio/voices"
OPENAI_CONSENTS = "/v1/audio/voice_consents"
MANAGEMENT_UPLOAD = "/api/v1/audio/voices/upload"
_UPLOAD_PATHS = (OPENAI_VOICES, OPENAI_CONSENTS, MANAGEMENT_UPLOAD)


def _multipart(
    file_field: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """OpenAPI for a form the handler reads itself, which FastAPI cannot describe."""
    fields = {name: {"type": "string"} for name in (*required, *optional)}
    schema = {
        "type": "object",
        "properties": {file_field: {"type": "string", "format": "binary"}, **fields},
        "required": [file_field, *required],
    }
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


# OpenAI's custom voices


@router.post(
    OPENAI_VOICES,
    openapi_extra=_multipart("audio_sample", ("consent", "name"), ("type",)),
    dependencies=_UPLOAD_LIMIT,
)
async def create_voice(
    request: Request,
    owner: Owner,
    services: Services,
    audit: Annotated[AuditEntry, audited(AuditAction.VOICE_CREATE)],
) -> VoiceObject:
    """Multipart `audio_sample`, `consent`, `name` (and `type`, which must be audio_sample)."""
    async with services.voices.upload(request, "audio_sample") as form:
        if form.text("type") not in (None, "audio_sample"):
            raise InvalidRequest(
                "only type 'audio_sample' voices can be created here", param="type"
            )
        draft = VoiceDraft(
            name=clean_name(form.required_text("name")),
            description=None,
            provider_hint=None,
            consent_id=form.required_text("consent"),
        )
        audio = form.required_file("audio_sample")
        record = await services.voices.add_voice(owner, draft, audio, "audio_sample")
    audit.resource_id = record.id
    return VoiceObject.of(record)


@router.delete("/v1/audio/voices/{voice_id}")
@router.delete("/api/v1/audio/voices/{voice_id}")
async def delete_voice(
    voice_id: VoicePath,
    owner: Owner,
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.VOICE_DELETE, "voice_id")],
) -> VoiceDeleted:
    """Delete the caller's voice with its audio; its consent stays."""
    await asyncio.to_thread(services.voices.store.delete_voice, owner, voice_id)
    return VoiceDeleted(id=voice_id)


# OpenAI's voice consents


@router.post(
    OPENAI_CONSENTS,
    openapi_extra=_multipart("recording", ("name", "language")),
    dependencies=_UPLOAD_LIMIT,
)
async def create_consent(
    request: Request,
    owner: Owner,
    services: Services,
    audit: Annotated[AuditEntry, audited(AuditAction.CONSENT_CREATE)],
) -> ConsentObject:
    """Multipart `recording` (the speaker reading the consent statement), `name`, `language`."""
    async with services.voices.upload(request, "recording") as form:
        name = clean_name(form.required_text("name"))
        language = clean_language(form.required_text("language"))
        recording = form.required_file("recording")
        record = await services.voices.add_consent(owner, name, language, recording, "recording")
    audit.resource_id = record.id
    return ConsentObject.of(record)


@router.get("/v1/audio/voice_consents")
async def list_consents(
    owner: Owner,
    services: Services,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ConsentList:
    """The caller's consents in creation order, a cursor page at a time."""
    records, has_more = await asyncio.to_thread(services.voices.store.consents, owner, after, limit)
    data = [ConsentObject.of(r) for r in records]
    return ConsentList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )


@router.get("/v1/audio/voice_consents/{consent_id}")
async def get_consent(consent_id: ConsentPath, owner: Owner, services: Services) -> ConsentObject:
    """One of the caller's consents."""
    return ConsentObject.of(
        await asyncio.to_thread(services.voices.store.consent, owner, consent_id)
    )


@router.post("/v1/audio/voice_consents/{consent_id}")
async def update_consent(
    consent_id: ConsentPath,
    body: ConsentUpdate,
    owner: Owner,
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.CONSENT_UPDATE, "consent_id")],
) -> ConsentObject:
    """Rename a consent (its recording cannot change)."""
    name = clean_name(body.name)
    store = services.voices.store
    return ConsentObject.of(await asyncio.to_thread(store.rename_consent, owner, consent_id, name))


@router.delete("/v1/audio/voice_consents/{consent_id}")
async def delete_consent(
    consent_id: ConsentPath,
    owner: Owner,
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.CONSENT_DELETE, "consent_id")],
) -> ConsentDeleted:
    """Delete a consent and its recording; refused while voices rely on it."""
    await asyncio.to_thread(services.voices.store.delete_consent, owner, consent_id)
    return ConsentDeleted(id=consent_id)


# Management API


@router.post(
    MANAGEMENT_UPLOAD,
    openapi_extra=_multipart("file", ("name", "consent"), ("description", "provider")),
    dependencies=_UPLOAD_LIMIT,
)
async def upload_voice(
    request: Request,
    owner: Owner,
    services: Services,
    audit: Annotated[AuditEntry, audited(AuditAction.VOICE_CREATE)],
) -> ManagedVoice:
    """Multipart `file`, `name`, `consent`, and optionally `description` and `provider`."""
    async with services.voices.upload(request, "file") as form:
        draft = VoiceDraft(
            name=clean_name(form.required_text("name")),
            description=clean_text(form.text("description"), "description"),
            provider_hint=_provider_hint(form),
            consent_id=form.required_text("consent"),
        )
        record = await services.voices.add_voice(owner, draft, form.required_file("file"), "file")
    audit.resource_id = record.id
    return ManagedVoice.of(record)


@router.get("/api/v1/audio/voices")
async def list_voices(owner: Owner, services: Services) -> ManagedVoiceList:
    """All of the caller's voices, oldest first."""
    records = await asyncio.to_thread(services.voices.store.voices, owner)
    return ManagedVoiceList(data=[ManagedVoice.of(r) for r in records])


@router.get("/api/v1/audio/voices/{voice_id}")
async def get_voice(voice_id: VoicePath, owner: Owner, services: Services) -> ManagedVoice:
    """One of the caller's voices, with what was stored for it."""
    return ManagedVoice.of(await asyncio.to_thread(services.voices.store.voice, owner, voice_id))


@router.post(
    "/api/v1/audio/voices/{voice_id}/preview",
    response_class=Response,
    responses={200: {"description": "The preview audio", "content": {"audio/mpeg": {}}}},
)
async def preview_voice(
    voice_id: VoicePath,
    owner: Owner,
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.VOICE_PREVIEW, "voice_id")],
    body: Annotated[PreviewRequest | None, Body()] = None,
) -> Response:
    """A short sample spoken in the voice by a cloning provider."""
    voice, sample = await asyncio.to_thread(services.voices.store.sample, owner, voice_id)
    return await speak_preview(services, owner, voice, sample, body or PreviewRequest())


def _provider_hint(form: UploadForm) -> str | None:
    hint = (form.text("provider") or "").strip()
    if not hint:
        return None
    if len(hint) > 63 or not _PROVIDER_NAME.match(hint):
        raise InvalidRequest("'provider' must be a provider name", param="provider")
    return hint


def upload_body_limits(settings: VoiceSettings) -> dict[str, int]:
    """Request-body limits for the upload routes: the file's limit plus the form around it."""
    limit = settings.max_upload_bytes + FORM_OVERHEAD_BYTES
    return {path: limit for path in _UPLOAD_PATHS}
