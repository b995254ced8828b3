"""Speech requests that name a custom voice or carry a reference sample.

Both become one thing before routing: `voice_reference` holding the processed sample
(mono 16-bit WAV, base64) that cloning providers receive inline. The routing layer then sends
the request only to providers that advertise `voice_cloning`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from chorus_contracts import InvalidRequest, SpeechRequest, UnknownVoice, VoiceId
from chorus_router.api.caller import owner_of
from chorus_router.api.services import RouterServices, get_services
from chorus_router.audit import AuditAction
from chorus_router.audit.recording import request_id_of

CUSTOM_VOICE_PREFIX = "voice_"


async def with_voice_reference(
    request: Request,
    body: SpeechRequest,
    owner: Annotated[str, Depends(owner_of)],
    services: Annotated[RouterServices, Depends(get_services)],
) -> SpeechRequest:
    """The request body, with the caller's custom voice or inline sample resolved."""
    custom = isinstance(body.voice, VoiceId) and body.voice.id.startswith(CUSTOM_VOICE_PREFIX)
    if custom and body.voice_reference is not None:
        raise InvalidRequest(
            "give either a custom voice ({'id': 'voice_...'}) or voice_reference, not both",
            param="voice_reference",
        )
    if custom:
        reference = await stored_reference(services, owner, body.voice_name, request_id_of(request))
    elif body.voice_reference is not None:
        reference = await services.voices.inline_reference(body.voice_reference)
    else:
        return body
    return body.model_copy(update={"voice_reference": reference})


async def stored_reference(
    services: RouterServices, owner: str, voice_id: str, request_id: str
) -> str:
    """The processed sample of `owner`'s custom voice `voice_id`; its use goes to the audit
    log, found or not."""

    async def record(error: UnknownVoice | None = None) -> None:
        await asyncio.to_thread(
            services.audit.record,
            owner,
            AuditAction.VOICE_USE,
            voice_id,
            request_id=request_id,
            error=error,
        )

    try:
        reference = await services.voices.stored_reference(owner, voice_id)
    except UnknownVoice as exc:
        await record(error=exc)
        raise UnknownVoice(exc.message, param="voice") from None
    await record()
    return reference
