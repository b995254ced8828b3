"""`POST /v1/audio/speech`: OpenAI's speech endpoint, streamed or whole, audio or SSE."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response, StreamingResponse

from chorus_audio import AudioFormat, content_type, finalize_wav
from chorus_contracts import SERVER_TIMING_HEADER, ChorusError, InvalidRequest, SpeechRequest
from chorus_router.api.caller import caller_of
from chorus_router.api.lexicons import applied_lexicons
from chorus_router.api.services import RouterServices, get_services
from chorus_router.api.voice_references import with_voice_reference
from chorus_router.artifacts.capture import Capture
from chorus_router.identity import Principal, Scope
from chorus_router.security import RouteClass, rate_limited, require
from chorus_router.speech.delivery import Delivery
from chorus_router.speech.lifecycle import Lifecycle, OwnedResponse
from chorus_router.speech.policy import FailurePolicy
from chorus_router.speech.text_hygiene import clean_request
from chorus_router.speech.upstream import ProviderStream

router = APIRouter(
    dependencies=[Depends(require(Scope.SPEECH)), Depends(rate_limited(RouteClass.SYNTHESIS))]
)
log = logging.getLogger("chorus.router.speech")

_AUDIO_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Audio in the requested format, or SSE events with base64 audio",
        "content": {"audio/mpeg": {}, "text/event-stream": {}},
    }
}


@router.post("/v1/audio/speech", responses=_AUDIO_RESPONSE, response_class=Response)
@router.post("/api/v1/audio/speech", responses=_AUDIO_RESPONSE, response_class=Response)
async def create_speech(
    body: Annotated[SpeechRequest, Depends(with_voice_reference)],
    services: Annotated[RouterServices, Depends(get_services)],
    caller: Annotated[Principal, Depends(caller_of)],
    cache_control: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    started = time.perf_counter()
    fmt = AudioFormat(body.response_format)
    model_label = body.model if body.model in services.pool.models() else "unknown"
    services.metrics.text_length.observe(len(body.input))
    # From here on the response owns the request: routing and delivery run inside it,
    # and the client leaving at any point cancels them and releases what they hold.
    lifecycle = Lifecycle(services.metrics)
    respond = partial(
        _respond, body, services, fmt, model_label, started, lifecycle, caller, cache_control
    )
    return accounted(respond, lifecycle, services, body, fmt, model_label)


def accounted(
    produce: Callable[[], Awaitable[Response]],
    lifecycle: Lifecycle,
    services: RouterServices,
    body: SpeechRequest,
    fmt: AudioFormat,
    model_label: str,
) -> OwnedResponse:
    """The response that owns a speech request, counting and logging the request when no
    provider stream came to serve it: refused, or its client left while it was routed."""
    ended = partial(_ended_without_audio, services, body, fmt, model_label)

    async def produce_accounted() -> Response:
        try:
            return await produce()
        except ChorusError as exc:
            ended("speech request refused", str(exc.status), exc.code)
            raise
        except asyncio.CancelledError:
            if not lifecycle.holds_anything:
                ended("speech request abandoned", "client_gone", None)
            raise

    return OwnedResponse(produce_accounted, lifecycle)


def _ended_without_audio(
    services: RouterServices,
    body: SpeechRequest,
    fmt: AudioFormat,
    model_label: str,
    message: str,
    outcome: str,
    error_code: str | None,
) -> None:
    """Account a request that no provider stream served: refused, or left while routing."""
    services.metrics.requests.labels(model_label, "none", fmt, outcome).inc()
    log.info(
        message,
        extra={
            "model": model_label,
            "format": str(fmt),
            "outcome": outcome,
            "error_code": error_code,
            **text_fields(body.input),
        },
    )


def text_fields(text: str) -> dict[str, object]:
    """What a log may say about user text: its length and a hash, never the words."""
    return {
        "text_chars": len(text),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    }


async def _respond(
    body: SpeechRequest,
    services: RouterServices,
    fmt: AudioFormat,
    model_label: str,
    started: float,
    lifecycle: Lifecycle,
    caller: Principal,
    cache_control: str | None,
) -> Response:
    body = checked(body, services)
    if body.timestamps == "word" and body.stream_format != "sse":
        raise InvalidRequest(
            "word timestamps come in SSE streams (stream_format: sse) or from "
            "/api/v1/audio/captioned_speech",
            param="timestamps",
        )
    request_id = uuid.uuid4().hex
    lexicons = await applied_lexicons(services, caller, body.lexicons)
    speech_plan = services.router.plan(body, lexicons)
    stored = await services.artifacts.prepare(
        body, caller.user_id, cache_control, speech_plan.first_choice()
    )
    if stored.hit is not None:
        hit = stored.hit.file
        services.metrics.requests.labels(model_label, hit.provider or "none", fmt, "200").inc()
        headers = {
            "X-Request-Id": request_id,
            **stored.headers,
            **speech_plan.markup_headers(hit.provider or ""),
        }
        return await services.artifacts.serve_hit(stored, whole=not body.stream, headers=headers)
    spoken_errors = (
        body.stream_errors_as_audio
        if body.stream_errors_as_audio is not None
        else services.settings.stream_errors_as_audio
    )
    notice = services.settings.stream_error_text if spoken_errors else None
    policy = services.router.policy(speech_plan, request_id, notice)
    deliver = deliveries(services, policy, body, model_label, request_id, started, stored.capture)
    if not body.stream and body.stream_format == "audio":
        audio, stream = await whole_file(policy, deliver, lifecycle, fmt)
        headers = {
            "X-Request-Id": request_id,
            "X-Chorus-Provider": stream.provider,
            **stored.headers,
            **speech_plan.markup_headers(stream.provider),
        }
        return Response(audio, media_type=content_type(fmt), headers=headers)
    stream = await policy.open()
    delivery = deliver(stream)
    lifecycle.hold(delivery.close)
    headers = {
        "X-Request-Id": request_id,
        "X-Chorus-Provider": stream.provider,
        SERVER_TIMING_HEADER: stream.server_timing(time.perf_counter() - started),
        **stored.headers,
        **speech_plan.markup_headers(stream.provider),
    }
    if body.stream_format == "sse":
        return StreamingResponse(delivery.sse(), media_type="text/event-stream", headers=headers)
    return StreamingResponse(delivery.audio(), media_type=content_type(fmt), headers=headers)


def deliveries(
    services: RouterServices,
    policy: FailurePolicy,
    body: SpeechRequest,
    model_label: str,
    request_id: str,
    started: float,
    capture: Capture | None,
) -> Callable[[ProviderStream], Delivery]:
    """What delivers this request's provider streams (a whole file may take several)."""
    return partial(
        Delivery,
        policy=policy,
        metrics=services.metrics,
        encoding=services.encoding,
        fmt=AudioFormat(body.response_format),
        model_label=model_label,
        request_id=request_id,
        started=started,
        text_fields=text_fields(body.input),
        capture=capture,
    )


def checked(body: SpeechRequest, services: RouterServices) -> SpeechRequest:
    """The request's text cleaned, and refused past the router's input limit."""
    body = clean_request(body)
    limit = services.settings.max_input_chars
    if len(body.input) > limit:
        raise InvalidRequest(
            f"input is {len(body.input)} characters; the maximum is {limit}", param="input"
        )
    return body


async def whole_file(
    policy: FailurePolicy,
    deliver: Callable[[ProviderStream], Delivery],
    lifecycle: Lifecycle,
    fmt: AudioFormat,
) -> tuple[bytes, ProviderStream]:
    """The whole file, as the request's failure policy has it made (again elsewhere, if a
    provider breaks off mid-way); each pass's delivery is released with the request."""

    async def make(stream: ProviderStream) -> bytes:
        delivery = deliver(stream)
        lifecycle.hold(delivery.close)
        audio = b"".join([chunk async for chunk in delivery.audio()])
        return finalize_wav(audio) if fmt is AudioFormat.WAV else audio

    return await policy.whole(make)
