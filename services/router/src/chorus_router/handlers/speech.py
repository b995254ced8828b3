"""`POST /v1/audio/speech`: OpenAI's speech endpoint, streamed or whole, audio or SSE."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from chorus_audio import AudioFormat, content_type, finalize_wav, open_encoder
from chorus_contracts import InvalidRequest, SpeechRequest
from chorus_router.services import RouterServices, get_services
from chorus_router.upstream import ProviderStream

router = APIRouter()

_AUDIO_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Audio in the requested format, or SSE events with base64 audio",
        "content": {"audio/mpeg": {}, "text/event-stream": {}},
    }
}


@router.post("/v1/audio/speech", responses=_AUDIO_RESPONSE, response_class=Response)
@router.post("/api/v1/audio/speech", responses=_AUDIO_RESPONSE, response_class=Response)
async def create_speech(
    body: SpeechRequest, services: Annotated[RouterServices, Depends(get_services)]
) -> Response:
    limit = services.settings.max_input_chars
    if len(body.input) > limit:
        raise InvalidRequest(
            f"input is {len(body.input)} characters; the maximum is {limit}", param="input"
        )
    request_id = uuid.uuid4().hex
    stream = await services.router.open(body, request_id)
    fmt = AudioFormat(body.response_format)
    headers = {"X-Request-Id": request_id, "X-Chorus-Provider": stream.provider}
    if body.stream_format == "sse":
        return StreamingResponse(
            _sse_events(stream, fmt), media_type="text/event-stream", headers=headers
        )
    if body.stream:
        return StreamingResponse(
            _encoded(stream, fmt), media_type=content_type(fmt), headers=headers
        )
    audio = b"".join([chunk async for chunk in _encoded(stream, fmt)])
    if fmt is AudioFormat.WAV:
        audio = finalize_wav(audio)
    return Response(audio, media_type=content_type(fmt), headers=headers)


async def _encoded(stream: ProviderStream, fmt: AudioFormat) -> AsyncIterator[bytes]:
    """Encode PCM as it arrives; one encoder per response, flushed at the end."""
    encoder = open_encoder(fmt, stream.sample_rate)
    async for pcm in stream.chunks():
        data = encoder.encode(pcm)
        if data:
            yield data
    tail = encoder.finish()
    if tail:
        yield tail


async def _sse_events(stream: ProviderStream, fmt: AudioFormat) -> AsyncIterator[bytes]:
    """OpenAI's `speech.audio.delta` events, then `speech.audio.done`; errors as an event."""
    try:
        async for data in _encoded(stream, fmt):
            yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
    except Exception as exc:
        message = getattr(exc, "message", "the audio stream broke off")
        yield _event({"type": "error", "error": {"type": "server_error", "message": message}})
        return
    yield _event({"type": "speech.audio.done"})


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()
