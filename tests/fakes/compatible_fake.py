"""A third-party OpenAI-compatible TTS server, the way popular self-hosted ones behave:
`python -m fakes.compatible_fake --port N --api-key K` (the key is not checked: such servers
usually run without one).

- `POST /v1/audio/speech` knows one model (`kokoro`) and answers errors FastAPI-style
  (`{"detail": "..."}`, 422 with a list of problems for a malformed body);
- it makes the whole clip before sending any of it, unless the body says `"stream": true`,
  then each sentence leaves as soon as it is made;
- each sentence costs `SENTENCE_WORK_S` of (simulated model) time, plus real espeak-ng audio;
- `GET /v1/audio/voices` lists its voices as `{"voices": [...]}`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from fakes.control import FakeControl, serve
from fakes.speech import speak

RATE = 24_000
MODEL = "kokoro"
VOICES = ("af_heart", "af_bella", "am_adam", "bf_emma")
SENTENCE_WORK_S = 0.4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class SpeechBody(BaseModel):
    model: str
    input: str = Field(min_length=1)
    voice: str
    response_format: Literal["pcm"] = "pcm"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream: bool = False


def status_error(status: int) -> dict[str, Any]:
    return {"detail": f"Internal server error ({status})"}


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


async def _made(sentence: str, body: SpeechBody) -> bytes:
    await asyncio.sleep(SENTENCE_WORK_S)
    return await asyncio.to_thread(speak, sentence, RATE, body.voice, body.speed)


def create_app(_api_key: str) -> FastAPI:
    app = FastAPI(title="fake OpenAI-compatible server")
    control = FakeControl(status_error)
    app.include_router(control.router())

    @app.get("/v1/audio/voices")
    async def voices() -> dict[str, list[str]]:
        return {"voices": list(VOICES)}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL, "object": "model"}]}

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        answer, _ = await control.admit(request, authorized=True)
        if answer is not None:
            return answer
        try:
            body = SpeechBody.model_validate_json(await request.body())
        except ValidationError as exc:
            problems = [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
            return JSONResponse({"detail": problems}, 422)
        if body.model != MODEL:
            return JSONResponse(
                {"detail": f"Unsupported model '{body.model}'. Use '{MODEL}'."}, 400
            )
        if body.voice not in VOICES:
            return JSONResponse({"detail": f"Voice '{body.voice}' not found"}, 400)
        if body.stream:
            return StreamingResponse(_streamed(body), media_type="audio/pcm")
        pcm = b"".join([await _made(s, body) for s in sentences(body.input)])
        return Response(pcm, media_type="audio/pcm")

    async def _streamed(body: SpeechBody) -> AsyncIterator[bytes]:
        control.open_streams += 1
        try:
            for sentence in sentences(body.input):
                yield await _made(sentence, body)
        finally:
            control.open_streams -= 1

    return app


if __name__ == "__main__":
    serve(create_app, "fake third-party OpenAI-compatible speech server")
