"""The OpenAI `POST /v1/audio/speech` request, with Chorus's extensions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from chorus_contracts.provider import MAX_REFERENCE_TEXT_CHARS

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
StreamFormat = Literal["audio", "sse"]

MIN_SPEED = 0.25
MAX_SPEED = 4.0
# The most lexicons a request body may name; a router may allow fewer.
MAX_LEXICONS_PER_REQUEST = 16
# Pronunciation lexicons by id, the first named winning a word.
LexiconIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]],
    Field(max_length=MAX_LEXICONS_PER_REQUEST),
]
# Base64 of a 12 MiB file: a 10 MiB upload, or a processed reference sample, fits.
MAX_VOICE_REFERENCE_CHARS = 16 * 1024 * 1024


class VoiceId(BaseModel):
    """OpenAI's custom-voice form: `voice={"id": "voice_..."}`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)


class NormalizationOptions(BaseModel):
    """How the router rewrites text for speech; Kokoro-FastAPI's option names and defaults."""

    model_config = ConfigDict(extra="forbid")

    normalize: StrictBool = True
    # "10KB" -> "ten kilobytes": off by default, as "5 m" may not mean metres.
    unit_normalization: StrictBool = False
    url_normalization: StrictBool = True
    email_normalization: StrictBool = True
    # "word(s)" -> "words".
    optional_pluralization_normalization: StrictBool = True
    phone_normalization: StrictBool = True
    replace_remaining_symbols: StrictBool = True


class SpeechRequest(BaseModel):
    """Fields follow OpenAI's contract; unknown fields are refused, as OpenAI does."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    # Non-blank is checked below with a clearer message; the schema still says "not empty".
    input: str = Field(json_schema_extra={"minLength": 1})
    voice: str | VoiceId
    instructions: str | None = Field(default=None, max_length=4096)
    response_format: ResponseFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    stream_format: StreamFormat = "audio"
    # Chorus extensions.
    # "ssml": `input` is an SSML document (an input starting with "<speak" is one anyway).
    input_format: Literal["text", "ssml"] = "text"
    stream: bool = True
    lang_code: str | None = Field(default=None, max_length=32)
    extra_params: dict[str, Any] = Field(default_factory=dict, max_length=32)
    stream_errors_as_audio: bool | None = None
    normalization_options: NormalizationOptions = Field(default_factory=NormalizationOptions)
    # Also store the audio and name it in an X-Download-Path header, for this many seconds
    # (the router's default lifetime when unset, never past its maximum).
    return_download_link: bool = False
    download_expires_in: int | None = Field(default=None, ge=1, le=30 * 86_400)
    # "word": SSE streams carry `speech.audio.timestamps` events (providers that time words).
    timestamps: Literal["word", "none"] = "none"
    # A reference sample to clone, base64 audio (wav/mp3/flac/ogg/m4a/webm); only providers
    # that clone voices take it. Bounded here; the router's body limit usually bounds it first.
    voice_reference: str | None = Field(
        default=None, min_length=1, max_length=MAX_VOICE_REFERENCE_CHARS
    )
    # The words spoken in voice_reference; models such as NeuTTS clone from sample + text.
    voice_reference_text: str | None = Field(
        default=None, min_length=1, max_length=MAX_REFERENCE_TEXT_CHARS
    )
    # Pronunciation lexicons by id, the first named winning a word; None: the API key's
    # default lexicons, [] none at all.
    lexicons: LexiconIds | None = None

    @field_validator("input")
    @classmethod
    def _input_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("input must contain text to speak")
        return value

    @field_validator("voice")
    @classmethod
    def _voice_named(cls, value: str | VoiceId) -> str | VoiceId:
        if isinstance(value, str) and not value.strip():
            raise ValueError("voice must not be empty")
        return value

    @property
    def is_ssml(self) -> bool:
        return self.input_format == "ssml" or self.input.lstrip().startswith("<speak")

    @property
    def voice_name(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceId) else self.voice
