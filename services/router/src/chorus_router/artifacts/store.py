"""The async face of stored audio: objects (storage.py) and their rows (catalog.py) together,
with every blocking call in a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from typing import BinaryIO

from chorus_contracts import ServiceUnavailable
from chorus_router.artifacts.catalog import FileCatalog, StoredFile, unknown_file
from chorus_router.artifacts.links import media_type
from chorus_router.artifacts.storage import ObjectMissing, ObjectStorage

log = logging.getLogger("chorus.router.artifacts")


class ArtifactStore:
    def __init__(
        self, storage: ObjectStorage, catalog: FileCatalog, failed: Callable[[str], None]
    ) -> None:
        self.storage = storage
        self.catalog = catalog
        # Counts a failed operation ("store", "read", "delete", "sweep"): none of them fails a
        # request, so without the count a broken store would go unseen.
        self.failed = failed

    async def publish(self, spool: BinaryIO, file: StoredFile, cache_key: str | None) -> bool:
        """Publish the object, then its row; False (and no object) if the row lost a race."""

        def work() -> bool:
            self.storage.publish(file.key, spool, media_type(file.format))
            if self.catalog.add(file, cache_key):
                return True
            self.storage.delete(file.key)
            return False

        return await asyncio.to_thread(work)

    async def read(self, file: StoredFile, start: int, length: int) -> AsyncIterator[bytes]:
        """The bytes of a range; the first block is fetched now, so a vanished object is a
        404 (an unreachable store a 503) before any response header has gone out."""
        try:
            blocks = await asyncio.to_thread(self.storage.read, file.key, start, length)
            first = await asyncio.to_thread(next, blocks, b"")
        except ObjectMissing:
            self.failed("read")  # its row says it is there
            raise unknown_file(file.id) from None
        except Exception as exc:  # the store is down or refuses us: say so, as a 503
            self.failed("read")
            log.warning("stored file %s unreadable: %s", file.key, type(exc).__name__)
            raise ServiceUnavailable("the file store is unavailable", retry_after=5) from None
        return _rest(first, blocks)

    async def remove(self, files: Iterable[StoredFile]) -> None:
        """Delete the objects of rows already removed; a failure is logged, not raised."""
        for file in files:
            try:
                await asyncio.to_thread(self.storage.delete, file.key)
            except Exception as exc:  # the sweeper must go on; the object is just left over
                self.failed("delete")
                log.warning("could not delete stored file %s: %s", file.key, type(exc).__name__)


async def _rest(first: bytes, blocks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        while block := await asyncio.to_thread(next, blocks, b""):
            yield block
    finally:
        blocks.close()  # an abandoned download releases its file or connection now
