"""What stored audio adds to one speech request: a download link promised in its headers,
a cache look-up before any provider is asked, and the capture that stores the result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi.responses import Response, StreamingResponse

from chorus_audio import AudioFormat, content_type
from chorus_contracts import SpeechRequest
from chorus_router.artifacts.cache import CachedAudio, CacheTarget, FirstChoice, ResponseCache
from chorus_router.artifacts.capture import Capture, LinkTarget
from chorus_router.artifacts.catalog import StoredFile
from chorus_router.artifacts.links import LinkPolicy, new_file_id
from chorus_router.artifacts.settings import ArtifactSettings
from chorus_router.artifacts.store import ArtifactStore

CACHE_HEADER = "X-Chorus-Cache"
DOWNLOAD_PATH_HEADER = "X-Download-Path"
EXPIRES_HEADER = "X-Download-Expires-At"


@dataclass
class AudioPlan:
    """For one request: headers to add, a cached file to serve, or a capture to fill."""

    headers: dict[str, str] = field(default_factory=dict)
    hit: CachedAudio | None = None
    capture: Capture | None = None


class StoredAudio:
    """Download links and the response cache, as the speech handler uses them."""

    def __init__(
        self,
        settings: ArtifactSettings,
        store: ArtifactStore,
        links: LinkPolicy,
        cache: ResponseCache | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.links = links
        self.cache = cache

    async def prepare(
        self,
        body: SpeechRequest,
        owner: str,
        cache_control: str | None,
        first: FirstChoice | None,
    ) -> AudioPlan:
        """Promise a link, look the request up in the cache (keyed by the plan's `first`
        choice), and say what to capture."""
        fmt = AudioFormat(body.response_format)
        result = AudioPlan()
        link = await self._promise_link(body, owner, fmt, result.headers)
        fills: tuple[ResponseCache, CacheTarget] | None = None
        use = self._cache_for(body, owner, cache_control, first)
        if use is not None:
            cache, target, look_up = use
            if look_up:
                result.hit = await cache.lookup(target, str(fmt))
            result.headers[CACHE_HEADER] = "miss" if result.hit is None else "hit"
            if result.hit is None:
                fills = (cache, target)
        if link is not None or fills is not None:
            result.capture = Capture(self.store, fmt, self.settings.max_file_bytes, link, fills)
        return result

    def _cache_for(
        self, body: SpeechRequest, owner: str, cache_control: str | None, first: FirstChoice | None
    ) -> tuple[ResponseCache, CacheTarget, bool] | None:
        """The cache and this request's key in it, and whether to look it up (`no-cache`
        says make it anew); None when the request does not use the cache at all."""
        directives = {d.strip().lower() for d in (cache_control or "").split(",")}
        # The cache holds whole audio files; SSE events are made afresh.
        if self.cache is None or first is None:
            return None
        if body.stream_format != "audio" or "no-store" in directives:
            return None
        target = self.cache.target(body, owner, first)
        if target is None:
            return None
        return self.cache, target, "no-cache" not in directives

    async def _promise_link(
        self, body: SpeechRequest, owner: str, fmt: AudioFormat, headers: dict[str, str]
    ) -> LinkTarget | None:
        if not body.return_download_link:
            return None
        link = await self.promise_link(body, owner)
        headers[DOWNLOAD_PATH_HEADER] = self.link_path(link, str(fmt))
        headers[EXPIRES_HEADER] = str(link.expires_at)
        return link

    async def promise_link(self, body: SpeechRequest, owner: str) -> LinkTarget:
        """A new link for `owner`, lasting what the request asks within the bounds; 429 while
        the owner's links fill their quota."""
        lifetime = self.links.lifetime_s(body.download_expires_in)
        quota = self.settings.links.max_bytes_per_user
        await asyncio.to_thread(self.store.catalog.check_link_quota, owner, quota)
        return LinkTarget(new_file_id(), owner, int(time.time()) + lifetime)

    def link_path(self, link: LinkTarget, fmt: str) -> str:
        """The path (signed when links are) where the link's file in `fmt` will be."""
        return self.links.path(f"{link.file_id}.{fmt}", link.expires_at)

    def link_capture(self, fmt: AudioFormat, link: LinkTarget) -> Capture:
        """What stores a response's audio under `link` once it is complete."""
        return Capture(self.store, fmt, self.settings.max_file_bytes, link, None)

    async def serve_hit(self, plan: AudioPlan, whole: bool, headers: dict[str, str]) -> Response:
        """The cached file as the response, streamed from the store unless asked whole."""
        assert plan.hit is not None
        hit, blocks, capture = plan.hit.file, plan.hit.blocks, plan.capture
        media_type = content_type(hit.format)
        headers = {
            **headers,
            "X-Chorus-Provider": hit.provider or "",
            "Content-Length": str(hit.bytes),
        }
        if whole:
            audio = b"".join([block async for block in blocks])
            if capture is not None:
                capture.write(audio)
                await capture.commit(hit.provider or "", hit.duration_s)
            return Response(audio, media_type=media_type, headers=headers)
        return StreamingResponse(
            _relay(blocks, hit, capture), media_type=media_type, headers=headers
        )


async def _relay(
    blocks: AsyncIterator[bytes], hit: StoredFile, capture: Capture | None
) -> AsyncIterator[bytes]:
    try:
        async for block in blocks:
            if capture is not None:
                capture.write(block)
            yield block
        if capture is not None:
            await capture.commit(hit.provider or "", hit.duration_s)
    finally:
        if capture is not None:
            capture.discard()
