"""`POST /api/v1/audio/captioned_speech`: audio with the time of every word, as
Kokoro-FastAPI answers, and the same timings as WebVTT or SRT captions if asked.

Whole (the default), the answer is one JSON object. With `stream: true` it is one JSON
object per line, as Kokoro-FastAPI streams it: each line a piece of the encoded audio
(base64) with the words timed since the previous line. Captions in a file format, and the
audio when `return_download_link` asks, are also stored behind download links (the same
owner-scoped, expiring, optionally signed links as speech's), named in the answer and its
headers; a response that breaks off or is abandoned stores nothing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from chorus_audio import AudioFormat
from chorus_contracts import MarkTimestamp, SpeechRequest, WordTimestamp
from chorus_router.api.caller import owner_of
from chorus_router.api.lexicons import applied_lexicons
from chorus_router.api.services import RouterServices, get_services
from chorus_router.api.speech import accounted, checked, deliveries, whole_file
from chorus_router.api.voice_references import with_voice_reference
from chorus_router.artifacts.capture import Capture, LinkTarget, publish_text
from chorus_router.artifacts.links import new_file_id
from chorus_router.artifacts.responses import DOWNLOAD_PATH_HEADER, EXPIRES_HEADER
from chorus_router.identity import Scope, current_principal
from chorus_router.security import RouteClass, rate_limited, require
from chorus_router.speech.captions import srt, webvtt
from chorus_router.speech.delivery import Delivery
from chorus_router.speech.lifecycle import Lifecycle
from chorus_router.speech.upstream import ProviderStream

router = APIRouter(
    dependencies=[Depends(require(Scope.SPEECH)), Depends(rate_limited(RouteClass.SYNTHESIS))]
)

CaptionFormat = Literal["vtt", "srt"]
CAPTIONS_PATH_HEADER = "X-Captions-Path"
_RENDER: dict[str, Callable[[Sequence[WordTimestamp], Sequence[MarkTimestamp]], str]] = {
    "vtt": webvtt,
    "srt": srt,
}
_LINES_TYPE = "application/x-ndjson"


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
    # When each SSML `<mark>` of the input is reached, with the timestamps.
    marks: list[MarkTimestamp] | None = None
    # WebVTT or SRT text of the timings, when `caption_format` asks for one.
    captions: str | None = None
    # Where the stored audio (`return_download_link`) and captions can be fetched, and until
    # when (Unix seconds); the paths carry a signature when links are signed.
    download_path: str | None = None
    captions_path: str | None = None
    download_expires_at: int | None = None


@dataclass
class _Links:
    """The links one response promises (its audio's, its captions'), expiring together."""

    audio_capture: Capture | None = None
    captions: LinkTarget | None = None
    captions_format: CaptionFormat = "vtt"
    download_path: str | None = None
    captions_path: str | None = None
    expires_at: int | None = None

    def headers(self) -> dict[str, str]:
        named = {
            DOWNLOAD_PATH_HEADER: self.download_path,
            CAPTIONS_PATH_HEADER: self.captions_path,
            EXPIRES_HEADER: None if self.expires_at is None else str(self.expires_at),
        }
        return {name: value for name, value in named.items() if value is not None}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One JSON object; with `stream: true`, one per line",
        "content": {"application/json": {}, _LINES_TYPE: {}},
    }
}


@router.post("/v1/audio/captioned_speech", response_model=CaptionedSpeech, responses=_ANSWERS)
@router.post("/api/v1/audio/captioned_speech", response_model=CaptionedSpeech, responses=_ANSWERS)
async def captioned_speech(
    request: Request,
    body: CaptionedSpeechRequest,
    owner: Annotated[str, Depends(owner_of)],
    services: Annotated[RouterServices, Depends(get_services)],
) -> Response:
    fmt = AudioFormat(body.response_format)
    model_label = body.model if body.model in services.pool.models() else "unknown"
    stored_captions = _stored_captions(body)
    timed = body.return_timestamps or body.caption_format != "json"
    # Speech streams unless told not to; a captioned answer is whole unless asked to stream,
    # so clients of the one-object answer keep getting it.
    streamed = body.stream and "stream" in body.model_fields_set
    speech = SpeechRequest.model_validate(
        body.model_dump(exclude={"return_timestamps", "caption_format"})
        | {"timestamps": "word" if timed else "none", "stream": streamed, "stream_format": "audio"}
    )
    speech = await with_voice_reference(request, speech, owner, services)
    speech = checked(speech, services)
    request_id = uuid.uuid4().hex
    # As for speech: the response owns the synthesis, and a client leaving cancels it.
    lifecycle = Lifecycle(services.metrics)

    async def produce() -> Response:
        lexicons = await applied_lexicons(services, current_principal(request), speech.lexicons)
        speech_plan = services.router.plan(speech, lexicons)
        links = await _promise_links(services, speech, owner, fmt, stored_captions)
        started = time.perf_counter()
        # No spoken error notice: it would be audio that no caption times.
        policy = services.router.policy(speech_plan, request_id)
        deliver = deliveries(
            services, policy, speech, model_label, request_id, started, links.audio_capture
        )
        if streamed:
            stream = await policy.open()
            delivery = deliver(stream)
            lifecycle.hold(delivery.close)
            headers = {"X-Request-Id": request_id, "X-Chorus-Provider": stream.provider}
            return StreamingResponse(
                _lines(delivery, stream, fmt, timed, services, links),
                media_type=_LINES_TYPE,
                headers={**headers, **links.headers()},
            )
        audio, stream = await whole_file(policy, deliver, lifecycle, fmt)
        await _store_captions(services, links, stream)
        inline = _RENDER.get(body.caption_format)
        answer = CaptionedSpeech(
            audio=base64.b64encode(audio).decode(),
            audio_format=str(fmt),
            format=str(fmt),
            timestamps=stream.timestamps if timed else None,
            marks=stream.marks if timed else None,
            captions=inline(stream.timestamps, stream.marks) if inline is not None else None,
            download_path=links.download_path,
            captions_path=links.captions_path,
            download_expires_at=links.expires_at,
        )
        headers = {"X-Request-Id": request_id, "X-Chorus-Provider": stream.provider}
        return JSONResponse(answer.model_dump(), headers={**headers, **links.headers()})

    return accounted(produce, lifecycle, services, speech, fmt, model_label)


def _stored_captions(body: CaptionedSpeechRequest) -> CaptionFormat | None:
    """The format the captions are stored in: the one asked for, or WebVTT when a download
    link is asked with timings; None when nothing asks for a captions file."""
    if body.caption_format != "json":
        return body.caption_format
    if body.return_download_link and body.return_timestamps:
        return "vtt"
    return None


async def _promise_links(
    services: RouterServices,
    speech: SpeechRequest,
    owner: str,
    fmt: AudioFormat,
    captions: CaptionFormat | None,
) -> _Links:
    """Links for what this response stores, promised (quota checked) before any synthesis."""
    stored = services.artifacts
    links = _Links()
    if not speech.return_download_link and captions is None:
        return links
    link = await stored.promise_link(speech, owner)
    links.expires_at = link.expires_at
    if speech.return_download_link:
        links.audio_capture = stored.link_capture(fmt, link)
        links.download_path = stored.link_path(link, str(fmt))
    if captions is not None:
        links.captions = replace(link, file_id=new_file_id())
        links.captions_format = captions
        links.captions_path = stored.link_path(links.captions, captions)
    return links


async def _store_captions(services: RouterServices, links: _Links, stream: ProviderStream) -> None:
    """The finished response's captions under their promised link."""
    if links.captions is None:
        return
    words = stream.timestamps
    text = _RENDER[links.captions_format](words, stream.marks)
    # What the captions cover: up to the last word heard.
    duration = words[-1].end_time if words else 0.0
    await publish_text(
        services.artifacts.store,
        links.captions,
        links.captions_format,
        text,
        stream.provider,
        duration,
    )


async def _lines(
    delivery: Delivery,
    stream: ProviderStream,
    fmt: AudioFormat,
    timed: bool,
    services: RouterServices,
    links: _Links,
) -> AsyncIterator[bytes]:
    """One JSON object per line: a piece of encoded audio and the words timed (and SSML
    marks reached) since the last line, in seconds from the start of the stream. A provider
    failing mid-stream breaks the body off (it never completes), so a client can tell;
    nothing is stored then."""
    async for data, words, marks in delivery.timed():
        line = {
            "audio": base64.b64encode(data).decode(),
            "audio_format": str(fmt),
            "format": str(fmt),
            "timestamps": [w.model_dump() for w in words] if timed else None,
        }
        if timed and marks:
            line["marks"] = [m.model_dump() for m in marks]
        yield json.dumps(line, separators=(",", ":")).encode() + b"\n"
    await _store_captions(services, links, stream)
