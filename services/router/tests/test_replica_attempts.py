"""The failure policy over one provider with two replicas: a retry goes to the other one, a
busy replica's refusal too, a whole file broken mid-way is made again there, and a replica
that keeps failing opens its own breaker while the provider serves on. The replicas are the
`routed` fixture's two real in-process apps, here the two endpoints of one provider."""

from __future__ import annotations

from functools import partial

import pytest

from chorus_audio import AudioFormat
from chorus_contracts import (
    BreakerPolicy,
    ProviderBusy,
    ReplicaLoad,
    RetryPolicy,
    RoutingPolicy,
    UpstreamError,
)
from chorus_router.api.speech import whole_file
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.lifecycle import Lifecycle
from support.scripted_providers import ANSWER_CHUNKS, BreaksOff, Routed

FIRST, SECOND = "http://primary", "http://fallback"
FAIL_MAX = 2


@pytest.fixture
def pair(routed: Routed) -> Routed:
    """One provider, `primary`, served by both apps; FIRST reports the more slots, so it is
    tried first."""
    routing = RoutingPolicy(
        retry=RetryPolicy(attempts=2, backoff_initial_s=0, backoff_max_s=0, jitter_s=0),
        breaker=BreakerPolicy(fail_max=FAIL_MAX, reset_timeout_s=30),
    )
    entry = ProviderEntry(name="primary", urls=[FIRST, SECOND], models=["m"], routing=routing)
    routed.pool.update([entry])
    for replica in routed.handle("primary").replicas.all():
        slots = 4 if replica.url == FIRST else 1
        replica.load = ReplicaLoad(in_flight=0, queued=0, max_concurrency=slots)
    return routed


def _replica_state(routed: Routed, url: str) -> BreakerState:
    (replica,) = [r for r in routed.handle("primary").replicas.all() if r.url == url]
    return replica.breaker.state


async def test_a_retry_goes_to_the_other_replica(pair: Routed) -> None:
    first, second = pair.engines["primary"], pair.engines["fallback"]
    first.script = [UpstreamError("boom")]
    assert await pair.speak() == "primary"
    assert (first.calls, second.calls) == (1, 1)
    assert pair.state("primary") is BreakerState.CLOSED


async def test_a_busy_replica_sends_the_stream_to_the_other_one(pair: Routed) -> None:
    first, second = pair.engines["primary"], pair.engines["fallback"]
    first.script = [ProviderBusy("full", retry_after=5)]
    assert await pair.speak() == "primary"
    assert (first.calls, second.calls) == (1, 1)
    assert not pair.handle("primary").health.cooling_down(), "the other replica is free"


async def test_a_failing_replica_opens_its_own_breaker_and_the_provider_serves_on(
    pair: Routed,
) -> None:
    first, second = pair.engines["primary"], pair.engines["fallback"]
    first.script = [UpstreamError("boom")] * FAIL_MAX
    for _ in range(FAIL_MAX):
        await pair.speak()
    assert _replica_state(pair, FIRST) is BreakerState.OPEN
    await pair.speak()
    assert first.calls == FAIL_MAX, "passed over while its breaker is open"
    assert second.calls == FAIL_MAX + 1
    assert pair.state("primary") is BreakerState.CLOSED
    assert _replica_state(pair, SECOND) is BreakerState.CLOSED
    assert all(r.in_flight == 0 for r in pair.handle("primary").replicas.all())


async def test_a_whole_file_broken_mid_way_is_made_again_on_the_other_replica(
    pair: Routed,
) -> None:
    first, second = pair.engines["primary"], pair.engines["fallback"]
    first.script = [BreaksOff(chunks=2)]
    lifecycle = Lifecycle(pair.metrics)
    policy = pair.policy()
    try:
        audio, stream = await whole_file(
            policy, partial(pair.delivery, policy), lifecycle, AudioFormat.PCM
        )
    finally:
        await lifecycle.release()
    assert stream.provider == "primary", "the same provider, so the same voice"
    assert audio == second.chunk() * ANSWER_CHUNKS, "made again from the start"
    assert (first.calls, second.calls) == (1, 1)
