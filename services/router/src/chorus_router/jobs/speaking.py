"""One piece of a job through the router's own speech path: planned as any speech request,
served under its failure policy (breakers, same-provider retries with backoff, fallback),
and, once a chapter has its provider, served by that provider alone."""

from __future__ import annotations

from dataclasses import dataclass

from chorus_contracts import ChorusError, ServiceUnavailable, SpeechRequest, WordTimestamp
from chorus_router.jobs.chapters import Piece, pieces
from chorus_router.jobs.records import InputFormat, JobSpec
from chorus_router.jobs.script import turn_pieces
from chorus_router.jobs.ssml import ssml_pieces
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.speech.planning import SpeechPlan, times_words
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.upstream import ProviderStream
from chorus_text.ssml import Markup


@dataclass(frozen=True)
class SpokenPiece:
    pcm: bytes
    provider: str
    sample_rate: int
    # When each word is heard, from the piece's start; None from a provider that does not
    # time words (its chapter then has no captions).
    words: list[WordTimestamp] | None


def chapter_pieces(spec: JobSpec, text: str, max_chars: int) -> list[Piece]:
    """A chapter's pieces: a script's within its turns, in each speaker's voice; a
    document's (text or SSML) in the job's voice."""
    if spec.voices is not None:
        return turn_pieces(text, spec.voices, max_chars)
    if spec.input_format == InputFormat.SSML:
        return ssml_pieces(text, spec.voice, max_chars)
    return [Piece(p, spec.voice) for p in pieces(text, max_chars)]


def piece_request(spec: JobSpec, piece: Piece) -> SpeechRequest:
    """The speech request a piece of this job makes (raw PCM: the job encodes at the end)."""
    return SpeechRequest(
        model=spec.model,
        input=piece.text,
        voice=piece.voice,
        response_format="pcm",
        speed=spec.speed,
        lang_code=spec.lang_code,
    )


def _plan(router: SpeechRouter, spec: JobSpec, piece: Piece) -> SpeechPlan:
    """The piece planned as a speech request naming the job's lexicons would be."""
    return router.plan(piece_request(spec, piece), _lexicons(spec))


def speakers(router: SpeechRouter, spec: JobSpec, piece: Piece) -> list[str]:
    """The providers that may speak `piece`, in the order the router would try them."""
    return [c.provider for c in _plan(router, spec, piece).candidates]


def _lexicons(spec: JobSpec) -> AppliedLexicons | None:
    return None if spec.lexicons is None else spec.lexicons.applied


async def speak_piece(
    router: SpeechRouter,
    spec: JobSpec,
    piece: Piece,
    pinned: str | None,
    avoid: frozenset[str],
    request_id: str,
) -> SpokenPiece:
    """The piece's whole audio. With `pinned`, only that provider may speak it, so a
    chapter never mixes voices; otherwise any provider the plan allows but those in
    `avoid` (providers the chapter gave up on)."""
    speech_plan = _plan(router, spec, piece)
    kept = [
        c
        for c in speech_plan.candidates
        if (c.provider == pinned if pinned is not None else c.provider not in avoid)
    ]
    if not kept:
        wanted = pinned or f"other than {', '.join(sorted(avoid))}"
        raise ServiceUnavailable(
            f"no provider ({wanted}) serves model '{spec.model}' with voice '{piece.voice}'"
        )
    # Words are timed (for the chapter's captions) wherever every provider that may speak
    # the piece can time them; asking cannot change which provider speaks it.
    timed = spec.captions and all(times_words(c.handle) for c in kept)
    request = speech_plan.request.model_copy(update={"timestamps": "word" if timed else "none"})
    # A document's piece is planned from its text (the lexicons' entries make its markup
    # where they match it); an SSML piece brings its segments, the entries applied to them.
    if piece.segments is None:
        markup, lexicons = speech_plan.markup, speech_plan.lexicons
    else:
        markup, lexicons = Markup(list(piece.segments), []), _lexicons(spec)
    policy = router.policy(SpeechPlan(request, kept, markup, lexicons), request_id, background=True)

    async def whole(stream: ProviderStream) -> bytes:
        try:
            pcm = b"".join([chunk async for chunk in stream.chunks()])
        except ChorusError as exc:
            await policy.broke_off(stream, exc)
            raise
        except BaseException:
            policy.left(stream)
            raise
        policy.ended(stream)
        return pcm

    pcm, stream = await policy.whole(whole)
    words = stream.timestamps if timed else None
    return SpokenPiece(pcm, stream.provider, stream.sample_rate, words)
