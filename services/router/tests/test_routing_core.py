"""The routing rules on their own: planning, attempts, retries, breakers and cool-downs.

Two real provider apps (the shared factory around a scripted engine) answer in-process
through httpx's ASGI transport; the clock is injected, so nothing here sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from chorus_contracts import (
    BreakerPolicy,
    Capabilities,
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ProviderCannotServe,
    RetryPolicy,
    RoutingPolicy,
    ServiceUnavailable,
    SpeechRequest,
    SynthesisRequest,
    UnknownVoice,
    UpstreamError,
    VoiceInfo,
)
from chorus_provider import CancelSignal, Engine, ProviderSettings, create_provider_app
from chorus_router.metrics import RouterMetrics
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.planning import plan
from chorus_router.speech.policy import Limits, SpeechRouter

RESET_S = 10.0


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedEngine(Engine):
    """Answers each request with the next scripted error, or with audio once they run out."""

    def __init__(self, name: str, languages: list[str]) -> None:
        self.name = name
        self.languages = languages
        self.script: list[ChorusError] = []
        self.calls = 0

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self.name,
            engine="scripted",
            models=["m"],
            voices=[VoiceInfo(id="v", name="v", language=self.languages[0])],
            languages=self.languages,
            sample_rate=16_000,
            max_text_length=1000,
            streaming=True,
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        self.calls += 1
        if self.script:
            raise self.script.pop(0)
        yield b"\x01\x00" * 160


def _with_raw_answers(app: FastAPI, engine: ScriptedEngine) -> FastAPI:
    """What a wrong URL or an auth proxy in front of a provider answers: not the contract."""
    app.state.raw = None

    @app.middleware("http")
    async def raw(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path == "/v1/synthesize" and app.state.raw is not None:
            engine.calls += 1
            return app.state.raw
        return await call_next(request)

    return app


@dataclass
class Routed:
    router: SpeechRouter
    pool: ProviderPool
    engines: dict[str, ScriptedEngine]
    apps: dict[str, FastAPI]
    clock: FakeClock

    async def speak(self, **fields: object) -> str:
        """The provider that served the request."""
        request = SpeechRequest.model_validate(
            {"model": "m", "voice": "v", "input": "Hi."} | fields
        )
        stream = await self.router.policy(self.router.plan(request), "req").open()
        await stream.close()
        return stream.provider

    def state(self, name: str) -> BreakerState:
        handle = self.pool.get(name)
        assert handle is not None
        return handle.health.state


def _policy(priority: int, fallback: list[str]) -> RoutingPolicy:
    return RoutingPolicy(
        priority=priority,
        fallback=fallback,
        retry=RetryPolicy(attempts=2, backoff_initial_s=0, backoff_max_s=0, jitter_s=0),
        breaker=BreakerPolicy(fail_max=2, reset_timeout_s=RESET_S),
    )


@pytest.fixture
async def routed() -> AsyncIterator[Routed]:
    clock = FakeClock()
    engines = {
        "primary": ScriptedEngine("primary", ["en-us"]),
        "fallback": ScriptedEngine("fallback", ["en-us", "fr-fr"]),
    }
    apps = {
        name: _with_raw_answers(create_provider_app(engine, ProviderSettings(name=name)), engine)
        for name, engine in engines.items()
    }
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        mounts = {f"http://{name}": httpx.ASGITransport(app=app) for name, app in apps.items()}
        client = await stack.enter_async_context(httpx.AsyncClient(mounts=mounts))
        pool = ProviderPool(client, poll_interval_s=1.0, check_timeout_s=1.0, clock=clock)
        pool.update(
            [
                ProviderEntry(
                    name="primary",
                    url="http://primary",
                    models=["m"],
                    routing=_policy(20, ["fallback"]),
                ),
                ProviderEntry(
                    name="fallback", url="http://fallback", models=["m"], routing=_policy(10, [])
                ),
            ]
        )
        for _ in range(50):
            await pool.refresh()
            if all(h.ready for h in pool.all()):
                break
            await asyncio.sleep(0.01)
        router = SpeechRouter(pool, client, Limits(8, 30.0), RouterMetrics(pool.all), clock=clock)
        yield Routed(router, pool, engines, apps, clock)


def _request(**fields: object) -> SpeechRequest:
    return SpeechRequest.model_validate({"model": "m", "voice": "v", "input": "Hi."} | fields)


def _planned(pool: ProviderPool, **fields: object) -> list[str]:
    return [c.provider for c in plan(pool, _request(**fields)).candidates]


async def test_planning_keeps_only_providers_that_speak_the_language(routed: Routed) -> None:
    assert _planned(routed.pool) == ["primary", "fallback"]
    assert _planned(routed.pool, lang_code="fr") == ["fallback"]
    assert _planned(routed.pool, lang_code="en") == ["primary", "fallback"]
    with pytest.raises(InvalidRequest) as caught:
        plan(routed.pool, _request(lang_code="de"))
    assert caught.value.param == "lang_code"
    assert "primary speaks en-us" in caught.value.message


async def test_a_provider_that_cannot_serve_passes_the_request_on(routed: Routed) -> None:
    routed.engines["primary"].script = [ProviderCannotServe("speaks en-us, not this")]
    assert await routed.speak() == "fallback"
    assert routed.engines["primary"].calls == 1, "a refusal is not retried"
    assert routed.state("primary") is BreakerState.CLOSED
    assert routed.pool.get("primary").health.failures == 0  # type: ignore[union-attr]


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
    health = routed.pool.get("primary").health  # type: ignore[union-attr]
    assert health.last_failure is not None
    assert f"HTTP {answer.status_code} outside the contract" in health.last_failure.message
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.OPEN
    assert routed.engines["primary"].calls == 2, "misconfigured: not retried on the same provider"


async def test_transient_failures_are_retried_on_the_same_provider(routed: Routed) -> None:
    routed.engines["primary"].script = [UpstreamError("hiccup")]
    assert await routed.speak() == "primary"
    assert routed.engines["primary"].calls == 2
    assert routed.state("primary") is BreakerState.CLOSED


async def test_the_breaker_waits_out_its_reset_on_the_clock_then_probes(routed: Routed) -> None:
    primary = routed.engines["primary"]
    primary.script = [UpstreamError("down")] * 2
    assert await routed.speak() == "fallback"
    assert routed.state("primary") is BreakerState.OPEN
    assert await routed.speak() == "fallback"
    assert primary.calls == 2, "an open breaker lets nothing through"
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
    health = routed.pool.get("primary").health  # type: ignore[union-attr]
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


async def test_passes_of_one_request_share_its_deadline_and_attempts(routed: Routed) -> None:
    # A whole file made again elsewhere is a second pass of the same policy.
    policy = routed.router.policy(routed.router.plan(_request()), "req")
    first = await policy.open()
    await first.close()
    routed.clock.advance(31.0)  # past the 30 s deadline
    with pytest.raises(ServiceUnavailable) as spent:
        await policy.open()
    assert "deadline or attempt limit" in spent.value.message
    assert routed.engines["primary"].calls == 1
    assert routed.engines["fallback"].calls == 0
    assert await routed.speak() == "primary", "another request has its own budget"
