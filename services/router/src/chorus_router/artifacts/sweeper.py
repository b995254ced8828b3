"""The background sweep: expired links' rows and files go, the cache is trimmed to its bound
(after a restart or a smaller `max_bytes`). Any replica may run it; each row is removed by
exactly one DELETE, so two sweepers never fight over a file."""

from __future__ import annotations

import asyncio
import logging

from chorus_router.artifacts.responses import StoredAudio

log = logging.getLogger("chorus.router.artifacts")


async def sweep(stored: StoredAudio) -> int:
    """One pass; returns how many files it removed."""
    removed = 0
    while True:
        batch = await asyncio.to_thread(stored.store.catalog.expired)
        await stored.store.remove(batch)
        removed += len(batch)
        if not batch:
            break
    if stored.cache is not None:
        await stored.cache.evict()
    return removed


async def sweep_forever(stored: StoredAudio, interval_s: float) -> None:
    while True:
        try:
            removed = await sweep(stored)
            if removed:
                log.info("removed %d expired stored files", removed)
        except Exception as exc:  # a store that is down for a while must not end the loop
            stored.store.failed("sweep")
            log.warning("sweeping stored files failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_s)
