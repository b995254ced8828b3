"""Bounded concurrency with a bounded, timed queue in front of the engine, and how long a
slot is held per second of audio it makes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chorus_contracts import ProviderBusy

# Weight of the newest request in the running real-time factor: recent enough to follow a
# replica that slows down, smooth enough that one odd text does not swing the router.
_PACE_WEIGHT = 0.2


class Admission:
    """At most `max_concurrency` syntheses run; up to `max_queue` wait `queue_timeout_s`.

    Beyond that a request gets ProviderBusy (429) at once, so the router can go elsewhere
    instead of piling work onto a saturated engine.
    """

    def __init__(self, max_concurrency: int, max_queue: int, queue_timeout_s: float) -> None:
        self._slots = asyncio.Semaphore(max_concurrency)
        self._max_queue = max_queue
        self._queue_timeout_s = queue_timeout_s
        self.waiting = 0
        self.running = 0
        # Seconds a slot was held per second of audio made, over recent requests; None
        # until one was served. The router weighs this replica's queue by it.
        self.real_time_factor: float | None = None

    def served(self, slot_s: float, audio_s: float) -> None:
        """A request held its slot `slot_s` seconds and made `audio_s` seconds of audio."""
        if audio_s <= 0:
            return
        factor = slot_s / audio_s
        previous = self.real_time_factor
        self.real_time_factor = (
            factor if previous is None else previous + _PACE_WEIGHT * (factor - previous)
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked() and self.waiting >= self._max_queue:
            raise ProviderBusy("provider queue is full", retry_after=self._queue_timeout_s)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self._queue_timeout_s)
        except TimeoutError:
            raise ProviderBusy(
                f"no synthesis slot freed within {self._queue_timeout_s:g}s",
                retry_after=self._queue_timeout_s,
            ) from None
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
