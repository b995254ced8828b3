"""A short sample of a custom voice, spoken by a cloning provider through the normal routing."""

from __future__ import annotations

import base64

from fastapi.responses import Response

from chorus_contracts import ServiceUnavailable, SpeechRequest, VoiceCloningUnsupported, VoiceId
from chorus_router.api.services import RouterServices
from chorus_router.api.speech import create_speech
from chorus_router.identity import Principal
from chorus_router.routing.pool import ProviderPool
from chorus_router.voices.records import VoiceRecord
from chorus_router.voices.views import PreviewRequest


async def speak_preview(
    services: RouterServices, owner: str, voice: VoiceRecord, sample: bytes, body: PreviewRequest
) -> Response:
    """The whole preview file, made as a non-streamed speech request would be."""
    model = body.model or cloning_model(services.pool, voice.provider_hint)
    request = SpeechRequest(
        model=model,
        input=body.input or services.settings.voices.preview_text,
        voice=VoiceId(id=voice.id),
        response_format=body.response_format,
        stream=False,
    ).model_copy(update={"voice_reference": base64.b64encode(sample).decode("ascii")})
    # The preview is the voice alone: no key's default lexicons apply.
    return await create_speech(request, services, Principal(owner, frozenset()))


def cloning_model(pool: ProviderPool, hint: str | None) -> str:
    """The model to preview with: the hinted provider's if it clones, else the best cloner's."""
    cloners = [h for h in pool.enabled() if h.capabilities and h.capabilities.voice_cloning]
    cloners.sort(key=lambda h: (h.name != hint, not h.ready, -h.entry.routing.priority))
    if cloners:
        return cloners[0].entry.models[0]
    if any(h.capabilities is None for h in pool.enabled()):
        raise ServiceUnavailable("no provider that can clone a voice is ready yet", retry_after=2)
    raise VoiceCloningUnsupported(
        "no registered provider can clone a voice, so none can preview it"
    )
