"""`POST /api/v1/audio/text/normalize`: the text and pieces a speech request would send.

So users can see why a word was read as it was: the provider that would serve the request
first, the text it would receive (normalized or not, as that provider needs), and the pieces
it would synthesize one after another.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from chorus_contracts import InvalidRequest, NormalizationOptions, SpeechRequest
from chorus_router.api.services import RouterServices, get_services
from chorus_router.identity import Scope
from chorus_router.security import require
from chorus_router.speech.planning import plan
from chorus_router.speech.spoken_text import (
    checked_length,
    pieces_for,
    spoken_language,
    spoken_text,
)
from chorus_router.speech.text_hygiene import clean_request

router = APIRouter(dependencies=[Depends(require(Scope.SPEECH))])


class NormalizeRequest(BaseModel):
    """The text fields of a speech request; `voice` only matters for its language."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    model: str = Field(min_length=1, max_length=200)
    voice: str | None = Field(default=None, min_length=1, max_length=200)
    lang_code: str | None = Field(default=None, max_length=32)
    normalization_options: NormalizationOptions = Field(default_factory=NormalizationOptions)


class NormalizedText(BaseModel):
    text: str
    pieces: list[str]
    provider: str


@router.post("/api/v1/audio/text/normalize")
async def normalize_preview(
    body: NormalizeRequest, services: Annotated[RouterServices, Depends(get_services)]
) -> NormalizedText:
    limit = services.settings.max_input_chars
    if len(body.input) > limit:
        raise InvalidRequest(
            f"input is {len(body.input)} characters; the maximum is {limit}", param="input"
        )
    speech = clean_request(
        SpeechRequest(
            model=body.model,
            input=body.input,
            voice=body.voice or "default",
            lang_code=body.lang_code,
            normalization_options=body.normalization_options,
        )
    )
    serving = services.pool.serving(body.model)
    if body.voice is None and serving:
        handle, voice = sorted(serving, key=lambda h: not h.ready)[0], ""
    else:
        # The same order a speech request tries providers in; unknown models end here.
        candidate = plan(services.pool, speech).candidates[0]
        handle, voice = candidate.handle, candidate.voice
    caps = handle.capabilities
    text = checked_length(speech, spoken_text(speech, caps, voice), caps)
    pieces = pieces_for(text, caps, spoken_language(speech, caps, voice))
    return NormalizedText(text=text, pieces=pieces, provider=handle.name)
