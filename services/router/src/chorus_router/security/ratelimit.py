"""Rate limits per caller and route class, counted by the `limits` library.

Counts live in memory by default, or in Redis so that every router replica counts against
the same limit. A sliding window counter is used because it costs two counters per limit,
whatever the cost of a hit (characters would be thousands of entries in a moving window).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from chorus_contracts import RateLimited
from chorus_router.security.settings import RateLimitSettings

log = logging.getLogger("chorus.router.security")


class RouteClass(StrEnum):
    SYNTHESIS = "synthesis"  # speech requests, and the characters they ask to speak
    UPLOAD = "upload"  # voice uploads


class RateLimits:
    """The limits of one router; `consume` counts a request or raises RateLimited."""

    def __init__(self, settings: RateLimitSettings) -> None:
        url = settings.storage_url.get_secret_value()
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        if not url.startswith("memory"):
            # A Redis that stops answering must not hold requests for long.
            options.update(implementation="redispy", socket_timeout=2, socket_connect_timeout=2)
        storage = storage_from_string(f"async+{url}", **options)
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._requests: dict[RouteClass, tuple[RateLimitItem, str]] = {
            RouteClass.SYNTHESIS: (
                RateLimitItemPerMinute(settings.synthesis_per_minute),
                "requests per minute",
            ),
            RouteClass.UPLOAD: (
                RateLimitItemPerHour(settings.uploads_per_hour),
                "uploads per hour",
            ),
        }
        self._characters = RateLimitItemPerMinute(settings.characters_per_minute)

    async def consume(self, route_class: RouteClass, caller: str, characters: int = 0) -> None:
        item, unit = self._requests[route_class]
        await self._hit(item, unit, route_class, caller, 1)
        await self.consume_characters(caller, characters)

    async def consume_characters(self, caller: str, characters: int) -> None:
        """Characters to speak without a request of their own (a live turn's later pieces)."""
        if characters:
            await self._hit(self._characters, "characters per minute", "chars", caller, characters)

    async def _hit(self, item: RateLimitItem, unit: str, kind: str, caller: str, cost: int) -> None:
        try:
            if await self._limiter.hit(item, kind, caller, cost=cost):
                return
            reset_at, _ = await self._limiter.get_window_stats(item, kind, caller)
        except StorageError as exc:
            # A store outage should not refuse every caller: serve unlimited until it is back.
            log.warning("rate limit store failed; request not limited: %s", exc.storage_error)
            return
        raise RateLimited(
            f"Rate limit reached: {item.amount} {unit}. Please try again later.",
            retry_after=max(1.0, reset_at - time.time()),
        )


def rate_limited(route_class: RouteClass) -> Callable[[Request], Awaitable[None]]:
    """A dependency that counts the request against the caller's limits for `route_class`.

    Unauthenticated runs (auth mode `none`) have no caller to limit and are not counted.
    """

    async def check(request: Request) -> None:
        caller = getattr(request.state, "rate_limit_key", None)
        if caller is None:
            return
        limits: RateLimits = request.app.state.rate_limits
        characters = await _input_characters(request) if route_class is RouteClass.SYNTHESIS else 0
        await limits.consume(route_class, caller, characters)

    return check


async def _input_characters(request: Request) -> int:
    """Length of the JSON body's `input` (FastAPI has already read and parsed the body)."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 0
    text = body.get("input") if isinstance(body, dict) else None
    return len(text) if isinstance(text, str) else 0
