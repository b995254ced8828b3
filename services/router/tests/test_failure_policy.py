"""The failure policy's rules after the first byte, for whole files, and for attempts that
never finish: spoken notices, breakers, files made again, first-byte timeouts, cancels.

The providers are real in-process apps (the `routed` fixture); a scripted engine that
breaks off makes its provider abort the response, as a client over a socket would see it.
"""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from chorus_audio import AudioFormat
from chorus_contracts import InternalError, ProviderBusy, ServiceUnavailable, UpstreamError
from chorus_router.api.speech import whole_file
from chorus_router.routing.breakers import BreakerState
from chorus_router.speech.lifecycle import Lifecycle
from chorus_router.speech.policy import FailurePolicy
from chorus_router.speech.upstream import ProviderStream
from support.scripted_providers import (
    ANSWER_CHUNKS,
    RESET_S,
    BreaksOff,
    Hangs,
    Late,
    Routed,
    read_into,
)

NOTICE = "Sorry, the rest could not be read."


async def _streamed(routed: Routed, policy: FailurePolicy) -> bytes:
    """What a streaming client receives (PCM); raises where its response breaks off."""
    delivery = routed.delivery(policy, await policy.open())
    return b"".join([data async for data in delivery.audio()])


async def test_a_broken_stream_ends_with_a_notice_from_the_same_provider_and_voice(
    routed: Routed,
) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1)]
    audio = await _streamed(routed, routed.policy(notice=NOTICE))
    assert audio == primary.chunk() * (1 + ANSWER_CHUNKS), "the audio so far, then the notice"
    notice = primary.requests[-1]
    assert (notice.text, notice.voice) == (NOTICE, primary.requests[0].voice)
    assert routed.engines["fallback"].calls == 0, "never two voices spliced"


async def test_the_notice_is_given_once(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1), BreaksOff(chunks=1)]
    with pytest.raises(UpstreamError, match="broke the connection"):
        await _streamed(routed, routed.policy(notice=NOTICE))
    assert primary.calls == 2, "the stream and one notice"
    assert routed.engines["fallback"].calls == 0


async def test_no_notice_from_a_provider_whose_breaker_the_break_opened(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1)]
    with pytest.raises(UpstreamError):
        await _streamed(routed, routed.policy())
    # The second break in a row opens the breaker (fail_max 2): no call goes out after it.
    primary.script = [BreaksOff(chunks=1)]
    with pytest.raises(UpstreamError, match="broke the connection"):
        await _streamed(routed, routed.policy(notice=NOTICE))
    assert primary.calls == 2, "two streams and no notice"
    assert routed.handle("primary").health.state is BreakerState.OPEN


async def test_a_notice_that_plays_to_its_end_counts_as_a_success(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1)]
    await _streamed(routed, routed.policy(notice=NOTICE))
    health = routed.handle("primary").health
    assert health.failures == 0, "the notice's stream ran to its end: the provider works"
    assert health.state is BreakerState.CLOSED


async def test_without_a_notice_a_broken_stream_just_ends(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=2)]
    policy = routed.policy(notice=None)
    delivery = routed.delivery(policy, await policy.open())
    received: list[bytes] = []
    with pytest.raises(UpstreamError):
        await read_into(received, delivery.audio())
    assert b"".join(received) == primary.chunk() * 2
    assert primary.calls == 1
    assert routed.engines["fallback"].calls == 0


async def test_a_break_after_the_first_byte_counts_against_the_providers_breaker(
    routed: Routed,
) -> None:
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1)]
    with pytest.raises(UpstreamError):
        await _streamed(routed, routed.policy())
    health = routed.handle("primary").health
    assert health.failures == 1
    assert health.last_failure is not None
    assert health.last_failure.code == "upstream_error"
    # One more failure in a row (fail_max 2) opens the breaker: the retry never goes out.
    primary.script = [UpstreamError("down")]
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.OPEN
    assert primary.calls == 2


async def test_a_provider_that_breaks_off_every_stream_opens_its_breaker(routed: Routed) -> None:
    """Every stream starts, so the first bytes alone would keep it looking healthy."""
    primary = routed.engines["primary"]
    primary.script = [BreaksOff(chunks=1), BreaksOff(chunks=1)]
    for _ in range(2):
        with pytest.raises(UpstreamError):
            await _streamed(routed, routed.policy())
    assert routed.state("primary") is BreakerState.OPEN
    assert await routed.speak() == "fallback"
    assert primary.calls == 2


async def test_a_client_leaving_gives_no_verdict_and_frees_the_probe(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [UpstreamError("down")] * 2
    assert await routed.speak() == "fallback"
    routed.clock.advance(RESET_S + 0.1)
    policy = routed.policy()
    probe = await policy.open()
    assert probe.provider == "primary"
    await routed.delivery(policy, probe).close()
    assert routed.state("primary") is BreakerState.HALF_OPEN, "no verdict"
    assert await routed.speak() == "primary", "the next request may probe"
    assert routed.state("primary") is BreakerState.CLOSED


async def test_backpressure_after_the_first_byte_is_a_cool_down_not_a_fault(
    routed: Routed,
) -> None:
    policy = routed.policy()
    stream = await policy.open()
    assert await policy.broke_off(stream, ProviderBusy("full", retry_after=5)) is None
    await stream.close()
    assert routed.handle("primary").health.failures == 0
    assert routed.state("primary") is BreakerState.CLOSED
    assert await routed.speak() == "fallback", "passed over while it cools down"
    assert routed.engines["primary"].calls == 1
    routed.clock.advance(5.1)
    assert await routed.speak() == "primary"


async def _whole(routed: Routed, policy: FailurePolicy) -> tuple[bytes, ProviderStream]:
    lifecycle = Lifecycle(routed.metrics)
    try:
        return await whole_file(
            policy, partial(routed.delivery, policy), lifecycle, AudioFormat.PCM
        )
    finally:
        await lifecycle.release()


async def test_a_whole_file_is_made_again_from_the_start_on_the_next_provider(
    routed: Routed,
) -> None:
    routed.engines["primary"].script = [BreaksOff(chunks=2)]
    fallback = routed.engines["fallback"]
    audio, stream = await _whole(routed, routed.policy(notice=NOTICE))
    assert stream.provider == "fallback"
    assert audio == fallback.chunk() * ANSWER_CHUNKS, "nothing of the broken attempt, no notice"
    assert routed.engines["primary"].calls == 1
    assert routed.count(
        "tts_requests", model="m", provider="primary", format="pcm", status="aborted"
    )
    assert routed.count("tts_requests", model="m", provider="fallback", format="pcm", status="200")


async def test_a_whole_file_that_every_provider_breaks_off_is_a_503(routed: Routed) -> None:
    for engine in routed.engines.values():
        engine.script = [BreaksOff(chunks=1)]
    with pytest.raises(ServiceUnavailable):
        await _whole(routed, routed.policy())
    assert [e.calls for e in routed.engines.values()] == [1, 1]


async def test_a_whole_file_failing_for_another_reason_is_not_made_again(
    routed: Routed,
) -> None:
    async def make(stream: ProviderStream) -> bytes:
        await stream.close()
        raise InternalError("the encoder failed")

    with pytest.raises(InternalError):
        await routed.policy().whole(make)
    assert routed.engines["fallback"].calls == 0
    assert routed.handle("primary").health.failures == 0, "not the provider's failure"


async def test_a_provider_silent_past_its_first_byte_timeout_is_moved_on_from(
    routed: Routed,
) -> None:
    handle = routed.first_byte_timeout("primary", 0.05)
    routed.engines["primary"].script = [Hangs(), Hangs()]
    assert await routed.speak() == "fallback"
    assert routed.engines["primary"].calls == 2, "a timeout is retried on the same provider"
    assert routed.count("tts_provider_errors", provider="primary", error_type="upstream_timeout")
    assert handle.health.last_failure is not None
    assert "sent no audio within 0.05s" in handle.health.last_failure.message


async def test_a_jobs_piece_may_wait_in_the_providers_queue_past_the_first_byte_timeout(
    routed: Routed,
) -> None:
    routed.first_byte_timeout("primary", 0.05)
    # Queued behind other pieces, the first audio comes after 0.3 s: within the request
    # timeout, where a job's piece (background) waits for it...
    routed.engines["primary"].script = [Late(0.3)]
    assert await routed.speak(background=True) == "primary"
    assert routed.state("primary") is BreakerState.CLOSED
    # ...but late for a listener, who is served by the next provider.
    routed.engines["primary"].script = [Late(0.3), Late(0.3)]
    assert await routed.speak() == "fallback"
    timeouts = routed.count(
        "tts_provider_errors", provider="primary", error_type="upstream_timeout"
    )
    assert timeouts == 2


async def test_a_cancelled_attempt_gives_no_verdict_and_frees_the_probe(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [UpstreamError("down"), UpstreamError("down"), Hangs()]
    await routed.speak()
    routed.clock.advance(RESET_S + 0.1)  # past the breaker's reset: the next call is its one probe
    probe = asyncio.create_task(routed.speak())
    await primary.hanging.wait()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert routed.state("primary") is BreakerState.HALF_OPEN, "no verdict"
    assert await routed.speak() == "primary", "the next request may probe"
    assert routed.state("primary") is BreakerState.CLOSED
