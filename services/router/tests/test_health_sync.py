"""Two replicas' views of one provider, kept in step through a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as redis

from chorus_contracts import BreakerPolicy, ProviderBusy, UpstreamError
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.health_sync import RedisHealthSync
from chorus_router.routing.provider_health import ProviderHealth
from support.redis_server import redis_url as redis_url


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Replica:
    health: ProviderHealth
    sync: RedisHealthSync


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[tuple[Replica, Replica, FakeClock]]:
    clock = FakeClock()
    # A provider name of its own per test: keys from other tests cannot leak in.
    name = f"p{id(clock)}"
    made = []
    for _ in range(2):
        sync = RedisHealthSync.connect(redis_url, clock, interval_s=0.1)
        health = ProviderHealth(name, BreakerPolicy(fail_max=1, reset_timeout_s=30), clock, sync)
        sync.follow(lambda h=health: [h])
        made.append(Replica(health, sync))
    yield made[0], made[1], clock
    client = redis.Redis.from_url(redis_url)
    await client.delete(*[f"chorus:provider-health:{name}:{k}" for k in ("open", "cooldown")])
    await client.aclose()
    for replica in made:
        await replica.sync.close()


async def test_a_breaker_opened_on_one_replica_is_open_on_the_other(
    replicas: tuple[Replica, Replica, FakeClock],
) -> None:
    one, two, clock = replicas
    permit = one.health.permit()
    one.health.failed(UpstreamError("down"), permit)
    assert one.health.state is BreakerState.OPEN
    assert two.health.permit() is not None, "not shared before a sync"
    await one.sync.sync_once()
    await two.sync.sync_once()
    assert two.health.state is BreakerState.OPEN
    assert two.health.open_until() == pytest.approx(one.health.open_until())
    assert two.health.permit() is None
    clock.now += 30.5
    assert two.health.state is BreakerState.HALF_OPEN, "the other replica probes on time"


async def test_a_breaker_closed_early_by_its_opener_closes_on_the_other(
    replicas: tuple[Replica, Replica, FakeClock],
) -> None:
    one, two, clock = replicas
    one.health.failed(UpstreamError("down"), one.health.permit())
    await one.sync.sync_once()
    await two.sync.sync_once()
    clock.now += 31
    probe = one.health.permit()
    assert probe is not None
    one.health.succeeded(probe)
    # The other replica took the breaker over a little later, so it still waits...
    two.health.heard_from_peers(clock.now + 5, None)
    assert two.health.state is BreakerState.OPEN
    await one.sync.sync_once()
    await two.sync.sync_once()
    assert two.health.state is BreakerState.CLOSED, "...until the opener says it closed"


async def test_retry_after_is_honoured_by_every_replica(
    replicas: tuple[Replica, Replica, FakeClock],
) -> None:
    one, two, clock = replicas
    one.health.failed(ProviderBusy("full", retry_after=8), one.health.permit())
    await one.sync.sync_once()
    await two.sync.sync_once()
    assert two.health.cooling_down()
    assert two.health.recovers_at() == pytest.approx(clock.now + 8)
    assert two.health.state is BreakerState.CLOSED, "busy is not a fault, here or there"
