"""`POST /api/v1/audio/captioned_speech`: audio with the time of every word, as
Kokoro-FastAPI answers, and the same timings as WebVTT or SRT captions if asked."""

from __future__ import annotations

import base64
import time
import uuid
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from chorus_audio import AudioFormat
from chorus_contracts import SpeechRequest, WordTimestamp
from chorus_router.captions import srt, webvtt
from chorus_router.delivery import Delivery
from chorus_router.handlers.speech import checked, text_fields, whole_file
from chorus_router.identity import Scope
from chorus_router.lifecycle import Lifecycle, OwnedResponse
from chorus_router.security import RouteClass, rate_limited, require
from chorus_router.services import RouterServices, get_services
from chorus_router.voices.caller import owner_of
from chorus_router.voices.references import with_voice_reference

router = APIRouter(
    dependencies=[Depends(require(Scope.SPEECH)), Depends(rate_limited(RouteClass.SYNTHESIS))]
)


class CaptionedSpeechRequest(SpeechRequest):
    """The speech request, plus what Kokoro-FastAPI's captioned speech takes."""

    return_timestamps: bool = True
    caption_format: Literal["json", "vtt", "srt"] = "json"


class CaptionedSpeech(BaseModel):
    audio: str
    # Kokoro-FastAPI names it `audio_format`; `format` is the same value.
    audio_format: str
    format: str
    timestamps: list[WordTimestamp] | None
    # WebVTT or SRT text of the timings, when `caption_format` asks for one.
    captions: str | None = None


@router.post("/v1/audio/captioned_speech", response_model=CaptionedSpeech)
@router.post("/api/v1/audio/captioned_speech", response_model=CaptionedSpeech)
async def captioned_speech(
    request: Request,
    body: CaptionedSpeechRequest,
    owner: Annotated[str, Depends(owner_of)],
    services: Annotated[RouterServices, Depends(get_services)],
) -> Response:
    fmt = AudioFormat(body.response_format)
    model_label = body.model if body.model in services.pool.models() else "unknown"
    timed = body.return_timestamps or body.caption_format != "json"
    speech = SpeechRequest.model_validate(
        body.model_dump(exclude={"return_timestamps", "caption_format"})
        | {"timestamps": "word" if timed else "none", "stream": False, "stream_format": "audio"}
    )
    speech = await with_voice_reference(request, speech, owner, services)
    speech = checked(speech, services)
    request_id = uuid.uuid4().hex
    deliver = partial(
        Delivery,
        services,
        fmt=fmt,
        model_label=model_label,
        request_id=request_id,
        started=time.perf_counter(),
        text_fields=text_fields(speech.input),
    )
    # As for speech: the response owns the synthesis, and a client leaving cancels it.
    lifecycle = Lifecycle(services.metrics)

    async def produce() -> Response:
        audio, stream = await whole_file(speech, services, request_id, deliver, lifecycle)
        captions = {"vtt": webvtt, "srt": srt}.get(body.caption_format)
        answer = CaptionedSpeech(
            audio=base64.b64encode(audio).decode(),
            audio_format=str(fmt),
            format=str(fmt),
            timestamps=stream.timestamps if timed else None,
            captions=captions(stream.timestamps) if captions is not None else None,
        )
        return JSONResponse(answer.model_dump(), headers={"X-Chorus-Provider": stream.provider})

    return OwnedResponse(produce, lifecycle)
