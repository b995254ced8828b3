"""The routing rules on their own: planning, attempts, retries, breakers and cool-downs.

Two real provider apps (the shared factory around a scripted engine) answer in-process
(the `routed` fixture, support.scripted_providers); the clock is injected, so nothing here
sleeps.
"""

from __future__ import annotations

import pytest
from fastapi import Response
from fastapi.responses import JSONResponse

from chorus_contracts import (
    InvalidRequest,
    ProviderBusy,
    ProviderCannotServe,
    RoutingPolicy,
    ServiceUnavailable,
    UnknownVoice,
    UpstreamError,
)
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.planning import plan
from support.scripted_providers import RESET_S, Routed, speech_request


def _planned(pool: ProviderPool, **fields: object) -> list[str]:
    return [c.provider for c in plan(pool, speech_request(**fields)).candidates]


async def test_candidates_are_the_primary_its_fallbacks_then_the_models_others(
    routed: Routed,
) -> None:
    # `other` outranks `fallback`, but `fallback` is the primary's own choice.
    other = ProviderEntry(
        name="other", url="http://other", models=["m"], routing=RoutingPolicy(priority=15)
    )
    routed.pool.update([h.entry for h in routed.pool.all()] + [other])
    routed.handle("other").ready = True
    assert _planned(routed.pool) == ["primary", "fallback", "other"]


async def test_planning_keeps_only_providers_that_speak_the_language(routed: Routed) -> None:
    assert _planned(routed.pool) == ["primary", "fallback"]
    assert _planned(routed.pool, lang_code="fr") == ["fallback"]
    assert _planned(routed.pool, lang_code="en") == ["primary", "fallback"]
    with pytest.raises(InvalidRequest) as caught:
        plan(routed.pool, speech_request(lang_code="de"))
    assert caught.value.param == "lang_code"
    assert "primary speaks en-us" in caught.value.message


async def test_a_provider_that_cannot_serve_passes_the_request_on(routed: Routed) -> None:
    routed.engines["primary"].script = [ProviderCannotServe("speaks en-us, not this")]
    assert await routed.speak() == "fallback"
    assert routed.engines["primary"].calls == 1, "a refusal is not retried"
    moved_on = {"from": "primary", "to": "fallback", "reason": "provider_cannot_serve"}
    assert routed.count("tts_fallback_attempts", **moved_on) == 1
    assert routed.state("primary") is BreakerState.CLOSED
    assert routed.handle("primary").health.failures == 0


async def test_when_every_provider_refuses_the_client_hears_what_each_said(routed: Routed) -> None:
    routed.engines["primary"].script = [ProviderCannotServe("too long for me")]
    routed.engines["fallback"].script = [UnknownVoice("no voice v here")]
    with pytest.raises(ProviderCannotServe) as mixed:
        await routed.speak()
    assert "primary: too long for me" in mixed.value.message
    assert "fallback: no voice v here" in mixed.value.message
    for engine in routed.engines.values():
        engine.script = [UnknownVoice(f"{engine.name} has no v")]
    with pytest.raises(UnknownVoice):
        await routed.speak()


async def test_a_request_wide_error_ends_the_search(routed: Routed) -> None:
    routed.engines["primary"].script = [InvalidRequest("text contains nothing to speak")]
    with pytest.raises(InvalidRequest):
        await routed.speak()
    assert routed.engines["fallback"].calls == 0


@pytest.mark.parametrize(
    "answer",
    [
        JSONResponse({"detail": "Not Found"}, status_code=404),
        Response("<html><h1>403 Forbidden</h1></html>", status_code=403, media_type="text/html"),
        Response(b"", status_code=401),
    ],
)
async def test_an_answer_outside_the_contract_trips_the_breaker(
    routed: Routed, answer: Response
) -> None:
    routed.apps["primary"].state.raw = answer
    assert await routed.speak() == "fallback"
    health = routed.handle("primary").health
    assert health.last_failure is not None
    assert f"HTTP {answer.status_code} outside the contract" in health.last_failure.message
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.OPEN
    assert routed.engines["primary"].calls == 2, "misconfigured: not retried on the same provider"


async def test_transient_failures_are_retried_on_the_same_provider(routed: Routed) -> None:
    routed.engines["primary"].script = [UpstreamError("hiccup")]
    assert await routed.speak() == "primary"
    assert routed.engines["primary"].calls == 2
    assert routed.count("tts_retries", provider="primary", reason="upstream_error") == 1
    assert routed.count("tts_provider_errors", provider="primary", error_type="upstream_error") == 1
    assert routed.state("primary") is BreakerState.CLOSED


async def test_the_breaker_waits_out_its_reset_on_the_clock_then_probes(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [UpstreamError("down")] * 2
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.OPEN
    assert await routed.speak() == "fallback"
    assert primary.calls == 2, "an open breaker lets nothing through"
    passed_over = {"from": "primary", "to": "fallback", "reason": "skipped"}
    assert routed.count("tts_fallback_attempts", **passed_over) == 1
    routed.clock.advance(RESET_S - 0.5)
    assert await routed.speak() == "fallback"
    routed.clock.advance(1.0)
    assert routed.state("primary") is BreakerState.HALF_OPEN
    assert await routed.speak() == "primary", "the probe"
    assert routed.state("primary") is BreakerState.CLOSED


async def test_a_failed_probe_opens_the_breaker_for_another_reset(routed: Routed) -> None:
    routed.engines["primary"].script = [UpstreamError("down")] * 3
    await routed.speak()
    routed.clock.advance(RESET_S + 0.1)
    assert await routed.speak() == "fallback"
    assert routed.engines["primary"].calls == 3, "one probe, not retried"
    health = routed.handle("primary").health
    assert health.open_until() == pytest.approx(routed.clock.now + RESET_S)


async def test_retry_after_keeps_others_away_until_the_clock_passes_it(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [ProviderBusy("full", retry_after=5)]
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.CLOSED, "busy is not a fault"
    assert await routed.speak() == "fallback"
    assert primary.calls == 1
    routed.clock.advance(5.1)
    assert await routed.speak() == "primary"


async def test_with_nothing_left_the_answer_is_503_with_the_soonest_recovery(
    routed: Routed,
) -> None:
    routed.engines["primary"].script = [UpstreamError("down")] * 2
    routed.engines["fallback"].script = [ProviderBusy("full", retry_after=4)]
    with pytest.raises(ServiceUnavailable) as caught:
        await routed.speak()
    assert "primary: " in caught.value.message
    assert "fallback: full" in caught.value.message
    assert caught.value.retry_after == pytest.approx(4)
    routed.clock.advance(3)
    with pytest.raises(ServiceUnavailable) as again:
        await routed.speak()
    assert again.value.retry_after == pytest.approx(1)


async def test_when_every_provider_is_busy_the_answer_is_429_with_the_soonest_retry_after(
    routed: Routed,
) -> None:
    routed.engines["primary"].script = [ProviderBusy("full", retry_after=6)]
    routed.engines["fallback"].script = [ProviderBusy("full", retry_after=4)]
    with pytest.raises(ProviderBusy) as caught:
        await routed.speak()
    assert "are busy" in caught.value.message
    assert caught.value.retry_after == pytest.approx(4)
    # Both cooling down: passed over without a call, and busy still, not down.
    with pytest.raises(ProviderBusy):
        await routed.speak()
    assert [e.calls for e in routed.engines.values()] == [1, 1]
    assert routed.state("primary") is BreakerState.CLOSED, "busy is not a fault"


async def test_passes_of_one_request_share_its_deadline_and_attempts(routed: Routed) -> None:
    # A whole file made again elsewhere is a second pass of the same policy.
    policy = routed.router.policy(routed.router.plan(speech_request()), "req")
    first = await policy.open()
    await first.close()
    routed.clock.advance(31.0)  # past the 30 s deadline
    with pytest.raises(ServiceUnavailable) as spent:
        await policy.open()
    assert "deadline or attempt limit" in spent.value.message
    assert routed.engines["primary"].calls == 1
    assert routed.engines["fallback"].calls == 0
    assert await routed.speak() == "primary", "another request has its own budget"
