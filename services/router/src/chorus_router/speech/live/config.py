"""What a live session speaks with: the fields of `session.update`, and its limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chorus_contracts import NormalizationOptions, SpeechRequest
from chorus_contracts.speech import MAX_SPEED, MIN_SPEED

# Formats whose pieces play back to back when their bytes are joined (a WAV or FLAC file
# per piece would put a header in the middle of the audio).
LiveFormat = Literal["pcm", "mp3", "aac", "opus"]
# OpenAI's 24 kHz, or what telephony and ElevenLabs' clients ask for.
LiveRate = Literal[8000, 16_000, 22_050, 24_000, 44_100]


class SessionConfig(BaseModel):
    """`session.update`'s `session`: a speech request's fields less its text; `binary`
    sends audio as binary WebSocket frames instead of base64 in `speech.audio.delta`."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="tts-1", min_length=1, max_length=200)
    voice: str = Field(default="alloy", min_length=1, max_length=200)
    response_format: LiveFormat = "pcm"
    sample_rate: LiveRate = 24_000
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    lang_code: str | None = Field(default=None, max_length=32)
    instructions: str | None = Field(default=None, max_length=4096)
    timestamps: Literal["word", "none"] = "none"
    normalization_options: NormalizationOptions = Field(default_factory=NormalizationOptions)
    binary: bool = False

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, value: object) -> object:
        """OpenAI's custom-voice form, `{"id": "voice_..."}`, names the voice too."""
        if isinstance(value, dict) and set(value) == {"id"}:
            return value["id"]
        return value

    def request(self, text: str, voice_reference: str | None = None) -> SpeechRequest:
        """The speech request of one piece of text; a custom voice's sample goes inline."""
        return SpeechRequest(
            model=self.model,
            input=text,
            voice=self.voice,
            response_format=self.response_format,
            speed=self.speed,
            lang_code=self.lang_code,
            instructions=self.instructions,
            timestamps=self.timestamps,
            normalization_options=self.normalization_options,
            voice_reference=voice_reference,
        )


class LiveSettings(BaseModel):
    """Bounds on live sessions (CHORUS_ROUTER_LIVE__MAX_SESSIONS, ...); past one the
    session is closed with a WebSocket close code and a reason."""

    model_config = ConfigDict(extra="forbid")

    # Open sessions on one router replica; more are closed with 1013 (try again later).
    max_sessions: int = Field(default=200, ge=1, le=100_000)
    # Open sessions of one API key or token subject on one replica (1013); auth off, unused.
    max_sessions_per_key: int = Field(default=20, ge=1, le=100_000)
    # Text sent and not yet spoken, held or queued (1009): an LLM writes faster than
    # speech plays, so a long answer waits here; 8192 characters are about ten minutes.
    max_buffered_chars: int = Field(default=8192, ge=100, le=100_000)
    # One client message (1009).
    max_message_bytes: int = Field(default=65_536, ge=1024, le=16 * 1_048_576)
    # Messages a session may send: a burst of `message_burst` (an answer already written,
    # a token a message), then `max_messages_per_s` (1008). An LLM writes tens to hundreds
    # of tokens a second.
    max_messages_per_s: float = Field(default=500.0, gt=0, le=100_000)
    message_burst: int = Field(default=2000, ge=1, le=1_000_000)
    # A session's whole length, and how long it may stay silent on both sides (1008).
    max_session_s: float = Field(default=3600.0, gt=0, le=86_400)
    idle_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    # Text with no flush is spoken after this long without a new fragment.
    flush_after_s: float = Field(default=1.0, gt=0, le=60)
