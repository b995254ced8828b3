"""One piece of a job through the router's own speech path: planned as any speech request,
served under its failure policy (breakers, same-provider retries with backoff, fallback),
and, once a chapter has its provider, served by that provider alone."""

from __future__ import annotations

from dataclasses import dataclass

from chorus_contracts import ChorusError, ServiceUnavailable, SpeechRequest
from chorus_router.jobs.records import JobSpec
from chorus_router.speech.planning import SpeechPlan
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.upstream import ProviderStream


@dataclass(frozen=True)
class SpokenPiece:
    pcm: bytes
    provider: str
    sample_rate: int


def piece_request(spec: JobSpec, text: str) -> SpeechRequest:
    """The speech request a piece of this job makes (raw PCM: the job encodes at the end)."""
    return SpeechRequest(
        model=spec.model,
        input=text,
        voice=spec.voice,
        response_format="pcm",
        speed=spec.speed,
        lang_code=spec.lang_code,
    )


async def speak_piece(
    router: SpeechRouter, spec: JobSpec, text: str, pinned: str | None, request_id: str
) -> SpokenPiece:
    """The piece's whole audio; with `pinned`, only that provider may speak it, so a
    chapter never mixes voices."""
    speech_plan = router.plan(piece_request(spec, text))
    if pinned is not None:
        kept = [c for c in speech_plan.candidates if c.provider == pinned]
        if not kept:
            raise ServiceUnavailable(
                f"provider {pinned}, which speaks this chapter, no longer serves model "
                f"'{spec.model}' with voice '{spec.voice}'"
            )
        speech_plan = SpeechPlan(speech_plan.request, kept)
    policy = router.policy(speech_plan, request_id)

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
    return SpokenPiece(pcm, stream.provider, stream.sample_rate)
