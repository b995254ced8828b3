"""`POST /api/v1/audio/text/normalize`: the text and pieces a speech request would send.

So users can see why a word was read as it was: the provider that would serve the request
first, the text it would receive (normalized or not, as that provider needs), and the pieces
it would synthesize one after another. For SSML, also the segments compiled for that
provider (pauses, rates, phonemes), the elements dropped and the features it approximates.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import (
    InvalidRequest,
    LexiconIds,
    NormalizationOptions,
    Pronunciations,
    SpeechRequest,
    SpeechSegment,
)
from chorus_contracts.responses import describe_model_validation
from chorus_router.api.caller import caller_of
from chorus_router.api.lexicons import applied_lexicons
from chorus_router.api.services import RouterServices, get_services
from chorus_router.identity import Principal, Scope
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.routing.pool import ProviderHandle
from chorus_router.security import require
from chorus_router.speech.markup import approximated, provider_segments, request_markup
from chorus_router.speech.planning import plan
from chorus_router.speech.pronunciations import dictionary_entries
from chorus_router.speech.spoken_text import (
    checked_length,
    pieces_for,
    spoken_language,
    spoken_text,
)
from chorus_router.speech.text_hygiene import clean_request
from chorus_text.ssml import Markup, join_words

router = APIRouter(dependencies=[Depends(require(Scope.SPEECH))])


class NormalizeRequest(BaseModel):
    """The text fields of a speech request; `voice` only matters for its language."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    model: str = Field(min_length=1, max_length=200)
    voice: str | None = Field(default=None, min_length=1, max_length=200)
    lang_code: str | None = Field(default=None, max_length=32)
    normalization_options: NormalizationOptions = Field(default_factory=NormalizationOptions)
    input_format: Literal["text", "ssml"] = "text"
    lexicons: LexiconIds | None = None


class NormalizedText(BaseModel):
    text: str
    pieces: list[str]
    provider: str
    # SSML input, or text a lexicon entry matched: the segments this provider would get
    # (phoneme entries as segments with phonemes, aliases written in), what was dropped
    # from the markup, and the features (Capabilities.markup) this provider approximates.
    segments: list[SpeechSegment] | None = None
    # For a provider with a pronunciation dictionary (ElevenLabs): the lexicon entries it
    # would apply itself, instead of aliases written into the segments.
    pronunciations: Pronunciations | None = None
    dropped: list[str] = Field(default_factory=list)
    approximated: list[str] = Field(default_factory=list)


@router.post("/api/v1/audio/text/normalize")
async def normalize_preview(
    body: NormalizeRequest,
    services: Annotated[RouterServices, Depends(get_services)],
    caller: Annotated[Principal, Depends(caller_of)],
) -> NormalizedText:
    limit = services.settings.max_input_chars
    if len(body.input) > limit:
        raise InvalidRequest(
            f"input is {len(body.input)} characters; the maximum is {limit}", param="input"
        )
    try:
        request = SpeechRequest(
            model=body.model,
            input=body.input,
            voice=body.voice or "default",
            lang_code=body.lang_code,
            normalization_options=body.normalization_options,
            input_format=body.input_format,
        )
    except ValidationError as exc:
        # The preview's own body is looser than a speech request's (a blank voice was a 500).
        raise describe_model_validation(exc) from None
    speech = clean_request(request)
    lexicons = await applied_lexicons(services, caller, body.lexicons)
    serving = services.pool.serving(body.model)
    if body.voice is None and serving:
        handle, voice = sorted(serving, key=lambda h: not h.ready)[0], ""
        markup = request_markup(speech, lexicons)
    else:
        # The same order a speech request tries providers in; unknown models end here.
        speech_plan = plan(services.pool, speech, lexicons)
        candidate = speech_plan.candidates[0]
        handle, voice, markup = candidate.handle, candidate.voice, speech_plan.markup
    caps = handle.capabilities
    language = spoken_language(speech, caps, voice)
    if markup is not None:
        return _compiled(speech, markup, handle, language, lexicons)
    text = checked_length(speech, spoken_text(speech, caps, voice), caps)
    return NormalizedText(text=text, pieces=pieces_for(text, caps, language), provider=handle.name)


def _compiled(
    speech: SpeechRequest,
    markup: Markup,
    handle: ProviderHandle,
    language: str | None,
    lexicons: AppliedLexicons | None,
) -> NormalizedText:
    """SSML, or text a lexicon changes, as `handle`'s provider would get it: each segment
    split as the engine splits it."""
    caps = handle.capabilities
    segments = provider_segments(markup, speech, handle, language, lexicons)
    text = checked_length(speech, join_words(s.text for s in segments), caps)
    pieces = [p for s in segments for p in pieces_for(s.text, caps, s.language or language)]
    return NormalizedText(
        text=text,
        pieces=pieces,
        provider=handle.name,
        segments=segments,
        pronunciations=dictionary_entries(markup, lexicons, caps, language),
        dropped=markup.dropped,
        approximated=approximated(markup, segments, caps),
    )
