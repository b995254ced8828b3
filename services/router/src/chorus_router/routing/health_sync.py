"""Open breakers and Retry-After cool-downs shared by router replicas through Redis.

A replica whose breaker for a provider opens, or that is told to wait, writes the time it
ends under a key that expires with it; every replica reads all keys each `interval_s` and
hands them to its `ProviderHealth` objects. Writes go out on the next tick too, so a peer
sees a change within two intervals. Routing never waits on Redis: a Redis that stops
answering leaves each replica with its own view, and a warning in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from chorus_router.routing.provider_health import Clock, ProviderHealth

log = logging.getLogger("chorus.router.health_sync")

_PREFIX = "chorus:provider-health"
# Keys outlive what they say by this much, so a reader never misses one that is due.
_MARGIN_S = 1.0


def _key(provider: str, kind: str) -> str:
    return f"{_PREFIX}:{provider}:{kind}"


class RedisHealthSync:
    """The `Peers` of every ProviderHealth in this replica, backed by one Redis."""

    def __init__(self, client: redis.Redis, clock: Clock, interval_s: float) -> None:
        self._client = client
        self._healths: Callable[[], list[ProviderHealth]] = list
        self._clock = clock
        self._interval_s = interval_s
        # Latest news per key: an epoch to publish, or None to withdraw it.
        self._outbox: dict[str, float | None] = {}
        self._failing = False

    @classmethod
    def connect(cls, url: str, clock: Clock, interval_s: float) -> RedisHealthSync:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, clock, interval_s)

    def follow(self, healths: Callable[[], list[ProviderHealth]]) -> None:
        """Whose state to keep in step: the pool's providers, as they are at each tick."""
        self._healths = healths

    def opened(self, provider: str, until: float) -> None:
        self._outbox[_key(provider, "open")] = until

    def closed(self, provider: str) -> None:
        self._outbox[_key(provider, "open")] = None

    def cooling_down(self, provider: str, until: float) -> None:
        self._outbox[_key(provider, "cooldown")] = until

    async def run_forever(self) -> None:
        while True:
            await self.sync_once()
            await asyncio.sleep(self._interval_s)

    async def sync_once(self) -> None:
        """Publish what this replica learned, then take over what the others did."""
        try:
            await self._publish()
            await self._receive()
        except RedisError as exc:
            if not self._failing:
                log.warning("provider health not shared (Redis failed): %s", type(exc).__name__)
            self._failing = True
            return
        if self._failing:
            log.info("provider health shared again")
        self._failing = False

    async def _publish(self) -> None:
        if not self._outbox:
            return
        pending, self._outbox = self._outbox, {}
        now = self._clock()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, until in pending.items():
                    if until is None:
                        pipe.delete(key)
                    elif until > now:
                        ttl_ms = int((until - now + _MARGIN_S) * 1000)
                        pipe.set(key, repr(until), px=ttl_ms)
                await pipe.execute()
        except RedisError:
            # Keep the news for the next tick unless newer news came meanwhile.
            self._outbox = {**pending, **self._outbox}
            raise

    async def _receive(self) -> None:
        healths = self._healths()
        if not healths:
            return
        keys = [_key(h.name, kind) for h in healths for kind in ("open", "cooldown")]
        values = await self._client.mget(keys)
        for index, health in enumerate(healths):
            open_until, cooldown_until = values[2 * index], values[2 * index + 1]
            health.heard_from_peers(_epoch(open_until), _epoch(cooldown_until))

    async def close(self) -> None:
        await self._client.aclose()


def _epoch(value: bytes | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
