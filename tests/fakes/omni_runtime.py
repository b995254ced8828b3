"""What vLLM-Omni and SGLang-Omni share as speech servers, for their contract fakes.

Both serve one model per process behind an OpenAI-compatible `POST /v1/audio/speech` with
the same extensions (vLLM-Omni's speech API, docs/serving/speech_api.md; SGLang-Omni's
`CreateSpeechRequest`, sglang_omni/serve/protocol.py):

- `input`, `model` (the served one, else 404), `voice` (a speaker of the checkpoint),
  `response_format` (wav, mp3, flac, pcm, aac, opus), `speed` 0.25-4.0, `stream`;
- `task_type` (Qwen3-TTS: CustomVoice, VoiceDesign, Base), `language`, `instructions`;
- `ref_audio` (an http(s) URL or a base64 `data:` URL) and `ref_text` for cloning: Base
  needs both (unless `x_vector_only_mode`), VoiceDesign needs `instructions`;
- `stream: true` sends PCM as it is made (their benchmark clients ask for
  `"stream": true, "response_format": "pcm"`, benchmarks/qwen3-tts/vllm_omni/bench_tts_serve.py);
- errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`;
- `GET /health` (200 once loaded), `GET /v1/models`, `GET /v1/audio/voices` (`{"voices": [...]}`).

Loading a checkpoint takes FAKE_OMNI_LOAD_S seconds (default 0) from the process's start;
until then every runtime endpoint answers 503 and only `/_fake` works. The runtimes differ
in how a client sees that phase, and the fake takes the answer both treat as "not ready":
SGLang-Omni's `/health` answers 503 while its pipeline is not running
(sglang_omni/serve/openai_api.py, `_register_health`); vLLM-Omni binds its port, loads its
stages (`build_async_omni` in omni_run_server_worker, vllm_omni/entrypoints/openai/api_server.py)
and only then serves HTTP, where vLLM's `/health` answers 503 when the engine is dead
(vllm/entrypoints/serve/instrumentator/health.py). A probe fails alike on no HTTP answer and
on a 503; the fake answers 503 so that its `/_fake` controls work while it loads.

Batching shows as latency that grows with concurrency while the total grows less than
linearly: each stream makes audio at `aggregate(n) / n` times real time with n streams in
flight, `aggregate(n) = peak * n / (n + half)` (see each runtime's profile for its figures).
`TIME_SCALE` shrinks all of it so tests stay quick. The checkpoint comes from FAKE_OMNI_MODEL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import os
import re
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from fakes.control import FakeControl
from fakes.speech import speak

RATE = 24_000
FORMATS = frozenset({"wav", "mp3", "flac", "pcm", "aac", "opus"})
TASK_TYPES = frozenset({"CustomVoice", "VoiceDesign", "Base"})
# Qwen3-TTS CustomVoice's nine speakers (vLLM-Omni's speech API docs list them).
QWEN3_SPEAKERS = (
    "vivian", "serena", "uncle_fu", "dylan", "eric", "ryan", "aiden", "ono_anna", "sohee",
)  # fmt: skip
TIME_SCALE = 0.1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Throughput:
    """Audio seconds made per wall second by all streams together, as a function of streams."""

    peak: float
    half: float
    first_packet_s: float

    def per_stream(self, streams: int) -> float:
        """How many times real time one of `streams` concurrent streams is made at."""
        n = max(1, streams)
        return self.peak * n / (n + self.half) / n


@dataclass(frozen=True)
class Checkpoint:
    """What the served model can do: its task, its speakers, whether it clones."""

    model: str
    task_type: str | None
    speakers: tuple[str, ...]
    clones: bool

    @classmethod
    def named(cls, model: str) -> Checkpoint:
        if "Qwen3-TTS" in model:
            task = next((t for t in TASK_TYPES if model.endswith(t)), "CustomVoice")
            speakers = QWEN3_SPEAKERS if task == "CustomVoice" else ()
            return cls(model, task, speakers, clones=task == "Base")
        # Fish S2 Pro, Higgs: one default voice, or a clone of a reference.
        return cls(model, None, ("default",), clones=True)


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str
    model: str | None = None
    voice: str | None = None
    response_format: str = "wav"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream: bool = False
    task_type: str | None = None
    language: str | None = None
    instructions: str | None = None
    ref_audio: str | None = None
    ref_text: str | None = None
    x_vector_only_mode: bool | None = None


class SpeechError(Exception):
    def __init__(self, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


def error_body(status: int, message: str | None = None, param: str | None = None) -> dict[str, Any]:
    kind = {400: "BadRequestError", 404: "NotFoundError"}.get(status, "InternalServerError")
    text = message or f"Internal server error ({status})"
    return {"error": {"message": text, "type": kind, "param": param, "code": status}}


def create_runtime_app(name: str, throughput: Throughput) -> FastAPI:
    checkpoint = Checkpoint.named(
        os.environ.get("FAKE_OMNI_MODEL", "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice")
    )
    app = FastAPI(title=f"fake {name}")
    control = FakeControl(error_body)
    app.include_router(control.router())
    active = 0
    loaded_at = time.monotonic() + float(os.environ.get("FAKE_OMNI_LOAD_S", "0"))

    @app.middleware("http")
    async def loading(request: Request, call_next: Any) -> Response:
        if time.monotonic() < loaded_at and not request.url.path.startswith("/_fake"):
            return JSONResponse(error_body(503, "The model is still loading"), 503)
        response: Response = await call_next(request)
        return response

    @app.exception_handler(SpeechError)
    async def speech_error(_: Request, exc: SpeechError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, str(exc), exc.param), exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(400, str(exc.errors()[0]["msg"])), 400)

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=200)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": checkpoint.model, "object": "model"}]}

    @app.get("/v1/audio/voices")
    async def voices() -> dict[str, Any]:
        return {"voices": list(checkpoint.speakers), "uploaded_voices": []}

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        answer, _ = await control.admit(request, authorized=True)
        if answer is not None:
            return answer
        body = SpeechBody.model_validate_json(await request.body())
        voice = _validated(body, checkpoint)
        pieces = [s for s in _SENTENCE_END.split(body.input.strip()) if s]
        if body.stream:
            return StreamingResponse(_generate(pieces, voice, body), media_type="audio/pcm")
        pcm = b"".join([chunk async for chunk in _generate(pieces, voice, body)])
        return Response(pcm if body.response_format == "pcm" else _wav(pcm), media_type="audio/wav")

    async def _generate(pieces: list[str], voice: str, body: SpeechBody) -> AsyncIterator[bytes]:
        nonlocal active
        active += 1
        control.open_streams += 1
        try:
            await asyncio.sleep(throughput.first_packet_s * TIME_SCALE)
            for piece in pieces:
                pcm = await asyncio.to_thread(speak, piece, RATE, voice, body.speed)
                audio_s = len(pcm) / 2 / RATE
                await asyncio.sleep(audio_s / throughput.per_stream(active) * TIME_SCALE)
                yield pcm
        finally:
            active -= 1
            control.open_streams -= 1

    return app


def _validated(body: SpeechBody, checkpoint: Checkpoint) -> str:
    """The voice to speak in (a speaker, or one derived from the reference), or a SpeechError."""
    if body.model is not None and body.model != checkpoint.model:
        raise SpeechError(f"The model `{body.model}` does not exist.", 404, "model")
    if not body.input.strip():
        raise SpeechError("Input text cannot be empty", param="input")
    if body.response_format not in FORMATS:
        raise SpeechError(
            f"Unsupported response_format '{body.response_format}'", param="response_format"
        )
    if body.stream and body.response_format != "pcm":
        raise SpeechError("Streaming requires response_format 'pcm'", param="stream")
    task = body.task_type or checkpoint.task_type
    if body.task_type is not None and body.task_type not in TASK_TYPES:
        raise SpeechError(f"Invalid task_type '{body.task_type}'", param="task_type")
    if checkpoint.task_type is not None and task != checkpoint.task_type:
        raise SpeechError(
            f"task_type '{task}' needs a {task} checkpoint; this server runs {checkpoint.model}",
            param="task_type",
        )
    if task == "VoiceDesign" and not body.instructions:
        raise SpeechError("VoiceDesign requires 'instructions'", param="instructions")
    if body.ref_audio is not None:
        if not checkpoint.clones:
            raise SpeechError(f"{checkpoint.model} does not clone voices", param="ref_audio")
        return "clone-" + hashlib.sha256(_reference(body.ref_audio)).hexdigest()[:8]
    if task == "Base":
        raise SpeechError("Base task requires 'ref_audio'", param="ref_audio")
    voice = (body.voice or checkpoint.speakers[0]).lower()
    if voice not in checkpoint.speakers:
        raise SpeechError(
            f"Invalid speaker '{body.voice}'. Supported: {', '.join(checkpoint.speakers)}",
            param="voice",
        )
    return voice


def _reference(ref_audio: str) -> bytes:
    """A `data:` URL's bytes; the fake fetches no URLs (it has no network), so it refuses them."""
    header, _, data = ref_audio.partition(",")
    if not (header.startswith("data:audio/") and header.endswith(";base64")):
        raise SpeechError("ref_audio must be a base64 data URL in this fake", param="ref_audio")
    try:
        wav = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise SpeechError("ref_audio is not valid base64", param="ref_audio") from None
    if wav[:4] != b"RIFF":
        raise SpeechError("ref_audio could not be decoded as audio", param="ref_audio")
    return wav


def _wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm)
    return out.getvalue()
