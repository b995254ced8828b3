"""The response cache: a request identical to an earlier one gets the stored file.

Entries are rows of kind `cache` with their request's key (cache_key.py); the store holds
at most `max_bytes` of them, evicting the least recently used. A custom voice's entries
carry its owner in the key, so they are never served to another tenant.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from chorus_contracts import ServiceUnavailable, SpeechRequest, UnknownFile
from chorus_router.artifacts.cache_key import ResponseIdentity, cache_key
from chorus_router.artifacts.catalog import StoredFile
from chorus_router.artifacts.links import new_file_id
from chorus_router.artifacts.settings import CacheSettings
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.metrics import RouterMetrics

log = logging.getLogger("chorus.router.artifacts")


@dataclass(frozen=True)
class CachedAudio:
    """A hit: the entry and its bytes, already coming from the store."""

    file: StoredFile
    blocks: AsyncIterator[bytes]


@dataclass(frozen=True)
class FirstChoice:
    """The provider a request's plan tries first, and what it would be sent: what a response
    is keyed by (the plan is made once per request, by routing)."""

    provider: str
    # The model identity the provider reports; None while unknown.
    model_id: str | None
    voice: str
    # The text as that provider receives it: normalized as it needs, so equal text, equal audio.
    text: str
    # SSML input: its segments as that provider receives them (canonical JSON).
    markup: str | None = None


@dataclass(frozen=True)
class CacheTarget:
    """The key a response would be stored under, and the provider the key was made for."""

    key: str
    provider: str
    tenant: str


class ResponseCache:
    def __init__(
        self, store: ArtifactStore, settings: CacheSettings, metrics: RouterMetrics
    ) -> None:
        self._store = store
        self._settings = settings
        self._metrics = metrics

    def target(self, body: SpeechRequest, owner: str, first: FirstChoice) -> CacheTarget | None:
        """The key for this request on the provider that would serve it first; None when that
        provider's model identity is unknown (then nothing is cached: it could change unseen)."""
        if first.model_id is None:
            return None
        custom = body.voice_reference is not None
        identity = ResponseIdentity(
            provider=first.provider,
            model_id=first.model_id,
            model=body.model,
            voice=first.voice,
            text=first.text,
            markup=first.markup,
            speed=body.speed,
            response_format=body.response_format,
            language=body.lang_code,
            instructions=body.instructions,
            extra=body.extra_params,
            voice_sample_sha256=_sha256(body.voice_reference) if custom else None,
            voice_sample_text=body.voice_reference_text,
            tenant=owner if custom else None,
        )
        return CacheTarget(cache_key(identity), first.provider, owner if custom else "")

    async def lookup(self, target: CacheTarget, fmt: str) -> CachedAudio | None:
        """The entry's file, opened; None on a miss. An entry whose object cannot be read
        (another replica's disk, a store that lost it or is down) is a miss too: a request
        is never failed by the cache, only made again."""
        found = await asyncio.to_thread(self._store.catalog.cached, target.key)
        blocks = None
        if found is not None:
            try:
                blocks = await self._store.read(found, 0, found.bytes)
            except (UnknownFile, ServiceUnavailable):
                log.warning("cache entry %s has no readable file; synthesizing", found.id)
        if found is None or blocks is None:
            self._metrics.cache_misses.labels(fmt).inc()
            return None
        self._metrics.cache_hits.labels(fmt).inc()
        return CachedAudio(found, blocks)

    async def add(self, spool: BinaryIO, target: CacheTarget, file: StoredFile) -> None:
        """Store a finished response made by the provider its key names, then evict."""
        if file.provider != target.provider:
            return  # a fallback made it: under the primary's key it would be wrong
        entry = replace(file, id=new_file_id(), kind="cache", owner=target.tenant)
        await self._store.publish(spool, entry, target.key)
        await self.evict()

    async def evict(self) -> None:
        dropped, remaining = await asyncio.to_thread(
            self._store.catalog.evict, self._settings.max_bytes
        )
        await self._store.remove(dropped)
        self._metrics.cache_bytes.set(remaining)


def _sha256(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("ascii", "replace")).hexdigest()
