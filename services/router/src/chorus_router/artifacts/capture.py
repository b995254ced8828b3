"""One response's audio on its way into the store: spooled as it is sent, published only if
the response completes. A broken, abandoned or oversized response leaves nothing behind."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, BinaryIO

from chorus_audio import AudioFormat, finalize_wav_head
from chorus_router.artifacts.catalog import StoredFile, now_us
from chorus_router.artifacts.storage import new_spool
from chorus_router.artifacts.store import ArtifactStore

if TYPE_CHECKING:
    from chorus_router.artifacts.cache import CacheTarget, ResponseCache

log = logging.getLogger("chorus.router.artifacts")
_WAV_HEAD = 64


@dataclass(frozen=True)
class LinkTarget:
    """A download link promised in the response headers, made good on completion."""

    file_id: str
    owner: str
    expires_at: int

    def file(self, fmt: str, provider: str, size: int, duration_s: float) -> StoredFile:
        """The row of the file this link names, once its `size` bytes are stored."""
        return replace(
            finished_file(fmt, provider, size, duration_s),
            id=self.file_id,
            owner=self.owner,
            expires_us=self.expires_at * 1_000_000,
        )


def finished_file(fmt: str, provider: str, size: int, duration_s: float) -> StoredFile:
    """A stored file's row before it is anyone's link or cache entry."""
    return StoredFile(
        id="",
        kind="link",
        owner="",
        format=fmt,
        provider=provider,
        bytes=size,
        duration_s=duration_s,
        created_us=now_us(),
        expires_us=None,
    )


class Capture:
    """Collects what a response sends; `commit` stores it, `discard` forgets it."""

    def __init__(
        self,
        store: ArtifactStore,
        fmt: AudioFormat,
        max_bytes: int,
        link: LinkTarget | None,
        cache: tuple[ResponseCache, CacheTarget] | None,
    ) -> None:
        self._store = store
        self._fmt = fmt
        self._max_bytes = max_bytes
        self._link = link
        self._cache = cache
        self._spool: BinaryIO | None = None
        self._size = 0
        self._overflow = False

    def write(self, data: bytes) -> None:
        if self._overflow:
            return
        if self._size + len(data) > self._max_bytes:
            # Past the bound the response goes on, but nothing is kept.
            self.discard()
            self._overflow = True
            return
        if self._spool is None:
            self._spool = new_spool(self._store.storage.spool_directory())
        self._spool.write(data)
        self._size += len(data)

    async def commit(self, provider: str, duration_s: float) -> None:
        """Store the complete response: as the promised link and/or as a cache entry."""
        spool, self._spool = self._spool, None
        if spool is None:
            return
        try:
            if self._fmt is AudioFormat.WAV:
                finalize_wav_spool(spool, self._size)
            fmt = str(self._fmt)
            if self._link is not None:
                file = self._link.file(fmt, provider, self._size, duration_s)
                await self._store.publish(spool, file, None)
            if self._cache is not None:
                cache, target = self._cache
                await cache.add(spool, target, finished_file(fmt, provider, self._size, duration_s))
        except Exception:
            # The client has its audio; only the stored copy is lost, and with it the link.
            self._store.failed("store")
            log.exception("could not store a finished response")
        finally:
            spool.close()

    def discard(self) -> None:
        spool, self._spool = self._spool, None
        self._size = 0
        self._overflow = False
        if spool is not None:
            spool.close()


def finalize_wav_spool(spool: BinaryIO, size: int) -> None:
    """A stored wav is a complete file: its header gets the true sizes."""
    spool.seek(0)
    head = spool.read(_WAV_HEAD)
    spool.seek(0)
    spool.write(finalize_wav_head(head, size))


async def publish_text(
    store: ArtifactStore, link: LinkTarget, fmt: str, text: str, provider: str, duration_s: float
) -> None:
    """Store a small finished text (a response's captions) under its promised link; as for
    audio, a store that fails loses only the link, never the response."""
    data = text.encode("utf-8")
    spool = new_spool(store.storage.spool_directory())
    try:
        spool.write(data)
        await store.publish(spool, link.file(fmt, provider, len(data), duration_s), None)
    except Exception:
        store.failed("store")
        log.exception("could not store a response's captions")
    finally:
        spool.close()
