"""Which providers may serve a speech request, and in what order to try them.

The primary is the highest-priority provider of the model that has the voice; then its
explicit fallbacks, then the model's other providers by priority, ready ones first. A
custom voice goes only to providers that clone; the request's `lang_code`, speed and text
length must fit a provider's capabilities. (A voice named directly needs no language check:
only providers that offer that voice are candidates at all.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    ServiceUnavailable,
    SpeechRequest,
    SpeechSegment,
    SynthesisRequest,
    UnknownModel,
    UnknownVoice,
    VoiceCloningUnsupported,
)
from chorus_router.artifacts.cache import FirstChoice
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.routing.pool import ProviderHandle, ProviderPool
from chorus_router.speech.markup import (
    approximated,
    identity,
    markup_headers,
    provider_segments,
    request_markup,
)
from chorus_router.speech.pronunciations import dictionary_entries
from chorus_router.speech.spoken_text import checked_length, spoken_language, spoken_text
from chorus_text.ssml import Markup, join_words


@dataclass(frozen=True)
class Candidate:
    handle: ProviderHandle
    voice: str

    @property
    def provider(self) -> str:
        return self.handle.name

    @property
    def model_id(self) -> str | None:
        """The model identity the provider reports: what a cached response is keyed by."""
        caps = self.handle.capabilities
        return None if caps is None else caps.model_id


@dataclass
class SpeechPlan:
    """One request's plan, made once: the candidates in order, the text each receives, the
    request's SSML compiled (None for plain text no lexicon entry matches), and the
    lexicons applied to it.

    The response cache keys by it, the failure policy tries its candidates, and each text
    is normalized at most once, when first asked for.
    """

    request: SpeechRequest
    candidates: list[Candidate]
    markup: Markup | None = None
    lexicons: AppliedLexicons | None = None
    _texts: dict[str, str] = field(default_factory=dict)
    _segments: dict[str, list[SpeechSegment]] = field(default_factory=dict)

    def first_choice(self) -> FirstChoice | None:
        """The first candidate and the text it would get: what the response cache keys by."""
        if not self.candidates:
            return None
        first = self.candidates[0]
        segments = self.segments_for(first)
        return FirstChoice(
            first.provider,
            first.model_id,
            first.voice,
            self.text_for(first),
            None if segments is None else identity(segments, self._versions),
        )

    def text_for(self, candidate: Candidate) -> str:
        """The request's input as `candidate`'s provider should get it (normalized as it needs);
        for SSML, the words of its segments."""
        text = self._texts.get(candidate.provider)
        if text is None:
            segments = self.segments_for(candidate)
            if segments is None:
                caps = candidate.handle.capabilities
                text = spoken_text(self.request, caps, candidate.voice)
            else:
                text = join_words(s.text for s in segments)
            self._texts[candidate.provider] = text
        return text

    def segments_for(self, candidate: Candidate) -> list[SpeechSegment] | None:
        """The request's SSML segments as `candidate`'s provider gets them; None for text."""
        if self.markup is None:
            return None
        segments = self._segments.get(candidate.provider)
        if segments is None:
            caps = candidate.handle.capabilities
            language = spoken_language(self.request, caps, candidate.voice)
            segments = provider_segments(
                self.markup, self.request, candidate.handle, language, self.lexicons
            )
            self._segments[candidate.provider] = segments
        return segments

    @property
    def _versions(self) -> tuple[str, ...]:
        return () if self.lexicons is None else self.lexicons.versions

    def markup_headers(self, provider: str) -> dict[str, str]:
        """Response headers naming the SSML elements dropped, and what `provider` approximates."""
        candidate = next((c for c in self.candidates if c.provider == provider), None)
        if self.markup is None or candidate is None:
            return {}
        segments = self.segments_for(candidate) or []
        return markup_headers(
            self.markup.dropped,
            approximated(self.markup, segments, candidate.handle.capabilities),
        )

    def synthesis(self, candidate: Candidate, request_id: str) -> SynthesisRequest:
        """What `candidate`'s provider is asked; a refusal when normalization made the text
        too long for it."""
        request = self.request
        return SynthesisRequest(
            text=checked_length(request, self.text_for(candidate), candidate.handle.capabilities),
            voice=candidate.voice,
            model=request.model,
            speed=request.speed,
            language=request.lang_code,
            instructions=request.instructions,
            extra=request.extra_params,
            voice_reference=request.voice_reference,
            voice_reference_text=request.voice_reference_text,
            request_id=request_id,
            timestamps=request.timestamps == "word",
            segments=self.segments_for(candidate),
            pronunciations=dictionary_entries(
                self.markup,
                self.lexicons,
                candidate.handle.capabilities,
                spoken_language(request, candidate.handle.capabilities, candidate.voice),
            ),
        )


def plan(
    pool: ProviderPool, request: SpeechRequest, lexicons: AppliedLexicons | None = None
) -> SpeechPlan:
    """Providers that could serve this model and voice, in the order to try them, with the
    `lexicons` applied to the text."""
    serving = pool.serving(request.model)
    if not serving:
        raise UnknownModel(
            f"The model '{request.model}' does not exist. Available models: "
            f"{', '.join(pool.models()) or 'none'}.",
            param="model",
        )
    markup = request_markup(request, lexicons)
    ordered = _chain(pool, serving)
    cloning = request.voice_reference is not None
    if cloning:
        ordered = _cloners(pool, request.model, ordered, serving)
    candidates = []
    for handle in ordered:
        voice = request.voice_name if cloning else handle.engine_voice(request.voice_name)
        if voice is not None:
            candidates.append(Candidate(handle, voice))
    if not any(c.handle in serving for c in candidates):
        raise UnknownVoice(
            f"The voice '{request.voice_name}' is not available for model "
            f"'{request.model}'. See /api/v1/audio/voices/catalog for its voices.",
            param="voice",
        )
    if request.lang_code is not None:
        language = request.lang_code
        candidates = _narrow(
            candidates,
            lambda h: h.speaks(language),
            _languages_of,
            f"no provider of model '{request.model}' speaks '{language}'",
            "lang_code",
        )
    candidates = _narrow(
        candidates,
        lambda h: h.takes_speed(request.speed),
        lambda caps: f"{caps.provider} {caps.speed_range[0]:g}-{caps.speed_range[1]:g}",
        f"speed {request.speed:g} is outside what this model's providers support",
        "speed",
    )
    # SSML is as long as its words; the tags are not sent as text.
    length = len(markup.text) if markup is not None else len(request.input)
    candidates = _narrow(
        candidates,
        lambda h: h.takes_text(length),
        lambda caps: f"{caps.provider} at most {caps.max_text_length}",
        f"input is {length} characters, more than this model's providers take",
        "input",
    )
    if request.timestamps == "word":
        candidates = _timing(pool, request.model, candidates)
    # Providers known to be down go last: still tried, since readiness can be stale. One
    # that scales to zero keeps its place: it is woken, not passed over while it sleeps.
    return SpeechPlan(
        request,
        sorted(candidates, key=_known_down),
        markup,
        lexicons if markup is not None else None,
    )


def _known_down(candidate: Candidate) -> bool:
    handle = candidate.handle
    return not (handle.ready or handle.entry.scale_to_zero)


def _languages_of(caps: Capabilities) -> str:
    shown = ", ".join(caps.languages[:8]) + (", ..." if len(caps.languages) > 8 else "")
    return f"{caps.provider} speaks {shown}"


def times_words(handle: ProviderHandle) -> bool:
    return handle.capabilities is None or handle.capabilities.timestamps == "word"


def _timing(pool: ProviderPool, model: str, candidates: list[Candidate]) -> list[Candidate]:
    """Word timestamps come only from providers that time words; a 400 naming them if the
    model has none."""
    kept = [c for c in candidates if times_words(c.handle)]
    if kept:
        return kept
    able = [
        h
        for h in pool.enabled()
        if h.capabilities is not None and h.capabilities.timestamps == "word"
    ]
    models = sorted({m for h in able for m in h.entry.models})
    raise InvalidRequest(
        f"The model '{model}' has no provider with word timestamps. Providers that have "
        f"them: {', '.join(sorted(h.name for h in able)) or 'none'} "
        f"(models: {', '.join(models) or 'none'}).",
        param="timestamps",
    )


def _cloners(
    pool: ProviderPool, model: str, ordered: list[ProviderHandle], serving: list[ProviderHandle]
) -> list[ProviderHandle]:
    """A reference sample (a custom voice) goes only to providers that say they clone."""
    cloners = [h for h in ordered if h.capabilities is not None and h.capabilities.voice_cloning]
    if any(h in serving for h in cloners):
        return cloners
    if any(h.capabilities is None for h in serving):
        raise ServiceUnavailable(
            f"no provider of model '{model}' that can clone a voice is ready yet",
            retry_after=2,
        )
    able = sorted(
        {
            m
            for h in pool.enabled()
            if h.capabilities is not None and h.capabilities.voice_cloning
            for m in h.entry.models
        }
    )
    raise VoiceCloningUnsupported(
        f"The model '{model}' has no provider that can clone a voice, so it cannot speak "
        f"a custom voice or a voice_reference. Models that can: {', '.join(able) or 'none'}.",
        param="model",
    )


def _chain(pool: ProviderPool, serving: list[ProviderHandle]) -> list[ProviderHandle]:
    primary = serving[0]
    chain = [primary]
    for name in primary.entry.routing.fallback:
        handle = pool.get(name)
        if handle is not None and handle.entry.enabled and handle not in chain:
            chain.append(handle)
    chain.extend(h for h in serving if h not in chain)
    return chain


def _narrow(
    candidates: list[Candidate],
    keep: Callable[[ProviderHandle], bool],
    limit: Callable[[Capabilities], str],
    problem: str,
    param: str,
) -> list[Candidate]:
    """The candidates whose capabilities admit the request; a 400 naming the limits if none."""
    kept = [c for c in candidates if keep(c.handle)]
    if not kept:
        limits = "; ".join(
            limit(c.handle.capabilities) for c in candidates if c.handle.capabilities is not None
        )
        raise InvalidRequest(f"{problem} ({limits})", param=param)
    return kept
