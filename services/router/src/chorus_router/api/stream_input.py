"""ElevenLabs' `stream-input` WebSocket, mapped onto the same live session.

Voice-agent frameworks built for ElevenLabs (its SDK's `convert_realtime`, LiveKit's and
Pipecat's plugins) speak to `/v1/text-to-speech/{voice_id}/stream-input` and work against
Chorus by changing their base URL. `voice_id` is a voice of the catalog (or one of the
caller's custom voices); a `model_id` the router does not serve (ElevenLabs' own, such as
`eleven_flash_v2_5`) speaks with the router's default model. Messages: `{"text": " "}`
first (with `voice_settings.speed`), then `{"text": "...", "flush": bool}`, and
`{"text": ""}` to finish; answers are `{"audio", "alignment", "normalizedAlignment"}`, then
`{"isFinal": true}` and a normal close. Alignment comes with `sync_alignment=true`, which
asks for a provider that times words (so it may choose another than the model's first);
its times count from the start of the turn.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_audio import pcm_to_ulaw
from chorus_contracts import InvalidRequest, WordTimestamp
from chorus_router.api.live import Wire, serve_live
from chorus_router.api.services import RouterServices
from chorus_router.speech.live import (
    ClientEvent,
    LiveSession,
    NotJson,
    SessionConfig,
    SessionUpdate,
    TextAppend,
    TextEnd,
    TextFlush,
)

router = APIRouter()


@dataclass(frozen=True)
class _Output:
    response_format: str
    sample_rate: int
    ulaw: bool = False


# ElevenLabs' `output_format` values Chorus can give (mp3 at the router's own bit rate).
OUTPUTS: dict[str, _Output] = {
    **{f"pcm_{rate}": _Output("pcm", rate) for rate in (8000, 16_000, 22_050, 24_000, 44_100)},
    "mp3_44100_128": _Output("mp3", 44_100),
    "ulaw_8000": _Output("pcm", 8000, ulaw=True),
}


class _VoiceSettings(BaseModel):
    # ElevenLabs' stability, similarity and style have no counterpart here.
    model_config = ConfigDict(extra="ignore")

    speed: float | None = Field(default=None, ge=0.25, le=4.0)


class _Message(BaseModel):
    """One client message; fields Chorus has no use for (generation_config, the key in the
    first message: authentication is the handshake's) are ignored."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(max_length=65_536)
    flush: bool = False
    voice_settings: _VoiceSettings | None = None


@router.websocket("/v1/text-to-speech/{voice_id}/stream-input")
async def stream_input(
    websocket: WebSocket,
    voice_id: str,
    model_id: str | None = None,
    output_format: str = "mp3_44100_128",
    language_code: str | None = None,
    sync_alignment: bool = False,
) -> None:
    services: RouterServices = websocket.app.state.services
    model = model_id if model_id in services.pool.models() else SessionConfig().model
    settings = {
        "model": model,
        "voice": voice_id,
        "lang_code": language_code,
        "timestamps": "word" if sync_alignment else "none",
    }
    await serve_live(websocket, _ElevenLabs(settings, output_format))


class _ElevenLabs:
    """The dialect: ElevenLabs' messages in, its audio and alignment messages out."""

    def __init__(self, settings: dict[str, Any], output_format: str) -> None:
        self._settings = settings
        self._format = output_format
        self._output = OUTPUTS.get(output_format, OUTPUTS["pcm_24000"])
        # Word timings wait for the audio message they go out with.
        self._words: list[dict[str, Any]] = []

    async def open(self, session: LiveSession) -> None:
        if self._format not in OUTPUTS:
            raise InvalidRequest(
                f"output_format {self._format} is not one Chorus gives; it gives "
                f"{', '.join(OUTPUTS)}",
                param="output_format",
            )
        output = self._output
        await session.update(
            {
                **self._settings,
                "response_format": output.response_format,
                "sample_rate": output.sample_rate,
                "binary": True,
            }
        )

    def read(self, message: str | bytes) -> list[ClientEvent]:
        try:
            parsed = _Message.model_validate_json(message)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise NotJson(first["msg"]) from None
            raise InvalidRequest(f"invalid message: {first['msg']}") from None
        events: list[ClientEvent] = []
        if parsed.voice_settings is not None and parsed.voice_settings.speed is not None:
            speed = {"speed": parsed.voice_settings.speed}
            events.append(SessionUpdate(type="session.update", session=speed))
        if parsed.text == "":
            events.append(TextEnd(type="input_text.end"))
        elif parsed.text.strip():
            events.append(TextAppend(type="input_text.append", text=parsed.text))
        if parsed.flush:
            events.append(TextFlush(type="input_text.flush"))
        return events

    def write(self, event: Wire) -> Wire | None:
        if isinstance(event, bytes):
            audio = pcm_to_ulaw(event) if self._output.ulaw else event
            alignment = _alignment(self._words) if self._words else None
            self._words = []
            return {
                "audio": base64.b64encode(audio).decode(),
                "isFinal": None,
                "alignment": alignment,
                "normalizedAlignment": alignment,
            }
        if event.get("type") == "speech.audio.timestamps":
            self._words += event["timestamps"]
        elif event.get("type") == "error":
            error = event["error"]
            return {"message": error["message"], "error": error["code"], "code": 1008}
        return None

    def last(self) -> Wire | None:
        return {"isFinal": True}


def _alignment(words: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """ElevenLabs' character alignment from word timings: each word's time shared evenly
    among its characters, and the space after it at its end."""
    chars: list[str] = []
    starts: list[int] = []
    durations: list[int] = []
    for timed in (WordTimestamp.model_validate(w) for w in words):
        span = (timed.end_time - timed.start_time) / max(1, len(timed.word))
        for index, char in enumerate(timed.word):
            chars.append(char)
            starts.append(round((timed.start_time + index * span) * 1000))
            durations.append(round(span * 1000))
        chars.append(" ")
        starts.append(round(timed.end_time * 1000))
        durations.append(0)
    return {"chars": chars, "charStartTimesMs": starts, "charsDurationMs": durations}
