"""Rate limits in memory: the (N+1)th hit in a window is refused with a Retry-After."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from chorus_contracts import RateLimited
from chorus_router.security.ratelimit import RateLimits, RouteClass
from chorus_router.security.settings import RateLimitSettings


def _limits(**settings: int) -> RateLimits:
    return RateLimits(RateLimitSettings(**settings))


async def test_the_request_after_the_limit_is_refused_with_retry_after() -> None:
    limits = _limits(synthesis_per_minute=3)
    for _ in range(3):
        await limits.consume(RouteClass.SYNTHESIS, "key:a")

    with pytest.raises(RateLimited) as caught:
        await limits.consume(RouteClass.SYNTHESIS, "key:a")

    assert caught.value.status == 429
    assert "3 requests per minute" in caught.value.message
    assert 1 <= int(caught.value.headers()["Retry-After"]) <= 60


async def test_callers_and_route_classes_are_counted_apart() -> None:
    limits = _limits(synthesis_per_minute=1, uploads_per_hour=1)
    await limits.consume(RouteClass.SYNTHESIS, "key:a")

    await limits.consume(RouteClass.SYNTHESIS, "key:b")
    await limits.consume(RouteClass.UPLOAD, "key:a")
    with pytest.raises(RateLimited, match="uploads per hour"):
        await limits.consume(RouteClass.UPLOAD, "key:a")


async def test_characters_are_limited_per_minute() -> None:
    limits = _limits(characters_per_minute=100)
    await limits.consume(RouteClass.SYNTHESIS, "key:a", characters=60)

    with pytest.raises(RateLimited, match="100 characters per minute"):
        await limits.consume(RouteClass.SYNTHESIS, "key:a", characters=60)
    await limits.consume(RouteClass.SYNTHESIS, "key:a", characters=40)


async def test_an_unreachable_store_does_not_refuse_callers() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    limits = RateLimits(
        RateLimitSettings(storage_url=SecretStr("redis://127.0.0.1:9"), synthesis_per_minute=1)
    )
    for _ in range(3):
        await limits.consume(RouteClass.SYNTHESIS, "key:a", characters=10)


def test_only_known_stores_are_accepted() -> None:
    with pytest.raises(ValueError, match="storage_url"):
        RateLimitSettings(storage_url=SecretStr("memcached://127.0.0.1:11211"))
