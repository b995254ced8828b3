"""The provider HTTP contract, version 1: what the router and every provider exchange."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

CONTRACT_VERSION = 1
SAMPLE_RATE_HEADER = "X-Sample-Rate"
MAX_REFERENCE_TEXT_CHARS = 2000


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
    contract_version: int = CONTRACT_VERSION


class ReplicaLoad(BaseModel):
    """What one replica is doing, in its `GET /readyz` body (`load`), for the router's
    least-request choice among a provider's replicas. Absent in older providers."""

    in_flight: int = Field(ge=0)
    queued: int = Field(ge=0)
    max_concurrency: int = Field(ge=1)


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
