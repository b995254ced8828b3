"""A stand-in for OpenAI's speech API: `python -m fakes.openai_fake --port N --api-key K`.

Like OpenAI: Bearer auth (401 `invalid_api_key`), 400 in `{"error": {...}}` for unknown
fields and bad values, 404 `model_not_found`, audio streamed as it is made; `pcm` is 24 kHz
s16le mono. Other formats are encoded from the same PCM.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_audio import open_encoder
from fakes.control import FakeControl, serve
from fakes.speech import speak

RATE = 24_000
MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova",
    "onyx", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    input: str = Field(min_length=1, max_length=4096)
    voice: str
    instructions: str | None = Field(default=None, max_length=4096)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


def error(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def invalid(exc: ValidationError) -> JSONResponse:
    first = exc.errors()[0]
    param = str(first["loc"][-1]) if first["loc"] else None
    if first["type"] == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
        return JSONResponse(error(message, "invalid_request_error"), 400)
    message = f"Invalid value for '{param}': {first['msg']}"
    return JSONResponse(error(message, "invalid_request_error", param, "invalid_value"), 400)


def status_error(status: int) -> dict[str, Any]:
    if status == 429:
        return error(
            "Rate limit reached for requests. Please try again later.",
            "requests",
            code="rate_limit_exceeded",
        )
    return error(f"The server had an error processing your request ({status}).", "server_error")


def create_app(api_key: str) -> FastAPI:
    app = FastAPI(title="fake OpenAI")
    control = FakeControl(status_error)
    app.include_router(control.router())

    def refusal(request: Request) -> JSONResponse | None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given:
            message = "You didn't provide an API key. Provide it in an Authorization header."
            return JSONResponse(error(message, "invalid_request_error"), 401)
        if given != api_key:
            masked = f"{given[:3]}{'*' * max(0, len(given) - 7)}{given[-4:]}"
            message = f"Incorrect API key provided: {masked}."
            return JSONResponse(
                error(message, "invalid_request_error", None, "invalid_api_key"), 401
            )
        return None

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        refused = refusal(request)
        if refused:
            return refused
        data = [{"id": m, "object": "model", "owned_by": "openai"} for m in MODELS]
        return JSONResponse({"object": "list", "data": data})

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        refused = refusal(request)
        answer, fault = await control.admit(request, authorized=refused is None)
        if refused is not None:
            return refused
        if answer is not None:
            return answer
        try:
            body = SpeechBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return invalid(exc)
        if body.model not in MODELS:
            message = f"The model `{body.model}` does not exist or you do not have access to it."
            return JSONResponse(
                error(message, "invalid_request_error", None, "model_not_found"), 404
            )
        if body.voice not in VOICES:
            message = f"Invalid value: '{body.voice}'. Supported values are: {', '.join(VOICES)}."
            return JSONResponse(
                error(message, "invalid_request_error", "voice", "invalid_value"), 400
            )
        if body.stream_format == "sse":
            return JSONResponse(
                error("This fake streams audio only.", "invalid_request_error"), 400
            )
        pcm = speak(body.input, RATE, body.voice, body.speed)
        if body.response_format != "pcm":
            encoder = open_encoder(body.response_format, RATE)
            pcm = encoder.encode(pcm) + encoder.finish()
        return StreamingResponse(
            control.stream(pcm, fault), media_type=f"audio/{body.response_format}"
        )

    return app


if __name__ == "__main__":
    serve(create_app, "fake OpenAI speech API")
