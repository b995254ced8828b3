"""The provider HTTP contract, version 1: what the router and every provider exchange."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CONTRACT_VERSION = 1
SAMPLE_RATE_HEADER = "X-Sample-Rate"
MAX_REFERENCE_TEXT_CHARS = 2000


# What a segment may ask of an engine, as capabilities name them.
MARKUP_FEATURES = (
    "break",
    "prosody-rate",
    "prosody-pitch",
    "prosody-volume",
    "emphasis",
    "phoneme",
    "lang",
    "voice",
)


def pcm_content_type(sample_rate: int) -> str:
    return f"audio/L16;rate={sample_rate};channels=1"


class VoiceInfo(BaseModel):
    id: str
    name: str
    language: str | None = None
    gender: str | None = None


class TextChunking(BaseModel):
    """How a provider cuts text into the pieces it synthesizes one after another."""

    max_chars: int = Field(ge=20)
    # The first piece ends at a clause or phrase boundary within this many words, so the
    # first audio comes early; 0 keeps the first sentence whole.
    first_piece_max_words: int = Field(default=10, ge=0)


class Capabilities(BaseModel):
    """`GET /v1/capabilities`: what a provider can do, as the router's catalog shows it."""

    provider: str
    engine: str
    models: list[str]
    voices: list[VoiceInfo]
    languages: list[str]
    sample_rate: int
    max_text_length: int
    streaming: bool
    voice_cloning: bool = False
    instructions: bool = False
    # Accepts weighted mixes of its voices, written "a(2)+b(1)".
    voice_blending: bool = False
    # Modifiers any voice may carry after "+", e.g. espeak-ng's "en-us+f3".
    voice_variants: list[str] = Field(default_factory=list)
    speed_range: tuple[float, float] = (0.25, 4.0)
    # Speaks raw text well by itself (cloud vendors): the router sends it unnormalized.
    normalizes_text: bool = False
    # How the provider splits text; None: the whole text is synthesized as one piece.
    chunking: TextChunking | None = None
    # What makes the audio: a hash of the model files, a vendor's model id. It changes when
    # they change, so the router's response cache never serves audio made by an older
    # model; a provider that cannot tell leaves it unset and is never cached.
    model_id: str | None = Field(default=None, max_length=200)
    # The watermark the engine embeds in all its audio (e.g. "perth-implicit"), if any.
    audio_watermark: str | None = None
    # "word": asked for them, it sends word timings with the audio (see timed_audio.py).
    timestamps: Literal["word", "none"] = "none"
    # The markup features (MARKUP_FEATURES) it honours in the audio itself; the rest of
    # the SSML a request holds is approximated (a pitch dropped, a phoneme read as its text).
    markup: list[str] = Field(default_factory=list)
    # Markup features it describes to its model in words (a prosody sentence in OpenAI's
    # `instructions`): sent in the segments, yet reported as approximated.
    instructed_markup: list[str] = Field(default_factory=list)
    # Takes a request's lexicon entries as a pronunciation dictionary of its own (ElevenLabs):
    # the router sends them in `pronunciations` instead of writing aliases into the text.
    pronunciation_dictionary: bool = False
    contract_version: int = CONTRACT_VERSION


# A pause longer than this is not speech markup but a way to hold a connection open.
MAX_PAUSE_MS = 10_000
MAX_SEGMENTS = 512
# Longer written forms (a long spelled-out string) are timed word by word as said.
MAX_WRITTEN_CHARS = 200

Emphasis = Literal["strong", "moderate", "reduced", "none"]


class SpeechSegment(BaseModel):
    """One span of marked-up speech (compiled from SSML): words with one style, then a pause.

    `text` is what is said, aliases applied and `say-as` spelled out; `phonemes`, when set,
    is how to say it in IPA (engines that take phonemes speak those instead). `rate` and
    `volume_db` are relative to the request; `pitch` is as the markup wrote it. `marks`
    are the `<mark>` names that fall at the segment's start. `written`, when set, is what
    the input wrote where `text` is said instead (a `<sub>`'s or `<say-as>`'s content, a
    `<phoneme>`'s word): word timings show it once, over the time its words are heard.
    """

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    pause_ms: int = Field(default=0, ge=0, le=MAX_PAUSE_MS)
    rate: float = Field(default=1.0, gt=0, le=10)
    pitch: str | None = Field(default=None, max_length=32)
    volume_db: float = Field(default=0.0, ge=-96, le=24)
    emphasis: Emphasis | None = None
    phonemes: str | None = Field(default=None, max_length=2000)
    language: str | None = Field(default=None, max_length=32)
    voice: str | None = Field(default=None, max_length=200)
    marks: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=64)
    written: str | None = Field(default=None, max_length=MAX_WRITTEN_CHARS)


# Lexicon entries one request sends a provider with a dictionary of its own: those its text
# uses, so the count follows the text's length.
MAX_PRONUNCIATIONS = 1024


class Pronunciation(BaseModel):
    """One lexicon entry as a dictionary rule: `grapheme` said as `phoneme` (IPA) or `alias`."""

    model_config = ConfigDict(extra="forbid")

    grapheme: str = Field(min_length=1, max_length=100)
    phoneme: str | None = Field(default=None, min_length=1, max_length=200)
    alias: str | None = Field(default=None, min_length=1, max_length=200)


class Pronunciations(BaseModel):
    """The lexicon entries a request's text uses; `version` changes whenever they do, so a
    provider may keep one dictionary per version."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=r"^[0-9a-f]{64}$")
    entries: list[Pronunciation] = Field(min_length=1, max_length=MAX_PRONUNCIATIONS)


class ReplicaLoad(BaseModel):
    """What one replica is doing, in its `GET /readyz` body (`load`), for the router's
    least-request choice among a provider's replicas. Absent in older providers."""

    in_flight: int = Field(ge=0)
    queued: int = Field(ge=0)
    max_concurrency: int = Field(ge=1)
    # Seconds a slot is held per second of audio, over recent requests: a replica at half
    # speed reports twice its twin's. None until it served one, or from an older provider.
    real_time_factor: float | None = Field(default=None, gt=0)


class SynthesisRequest(BaseModel):
    """`POST /v1/synthesize`: the body is answered with streamed s16le mono PCM."""

    text: str = Field(min_length=1)
    voice: str = Field(min_length=1, max_length=200)
    model: str | None = None
    speed: float = Field(default=1.0, gt=0, le=10)
    language: str | None = None
    instructions: str | None = None
    voice_reference: str | None = None
    # What `voice_reference` says, for models that clone from a sample and its transcript.
    voice_reference_text: str | None = Field(default=None, max_length=MAX_REFERENCE_TEXT_CHARS)
    extra: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None
    # Word timings wanted: answered with a timed-audio body (timed_audio.py).
    timestamps: bool = False
    # Markup compiled to segments; `text` then holds their words in order, for engines that
    # speak plain text. Providers that predate segments ignore them and speak `text`.
    segments: list[SpeechSegment] | None = Field(default=None, max_length=MAX_SEGMENTS)
    # For providers with `pronunciation_dictionary`: the lexicon entries to apply, which the
    # router then leaves unapplied in `text` and `segments`.
    pronunciations: Pronunciations | None = None
