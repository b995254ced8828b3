"""What a response leaves in the store: its whole audio when it completed, else nothing."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from chorus_audio import AudioFormat, wav_header
from chorus_contracts import ServiceUnavailable, UnknownFile
from chorus_router.artifacts.cache import CacheTarget, ResponseCache
from chorus_router.artifacts.capture import Capture, LinkTarget
from chorus_router.artifacts.catalog import FileCatalog, StoredFile
from chorus_router.artifacts.s3 import S3Storage
from chorus_router.artifacts.settings import CacheSettings, S3Settings
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.metrics import RouterMetrics
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate


async def _read_all(store: ArtifactStore, file: StoredFile) -> bytes:
    return b"".join([block async for block in await store.read(file, 0, file.bytes)])


async def test_a_cache_entry_whose_file_is_gone_is_a_miss_not_an_error(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    # As on a replica that has the shared database but not the other's disk.
    cache = ResponseCache(artifact_store, CacheSettings(), RouterMetrics(list))
    target = CacheTarget("k" * 64, provider="piper", tenant="")
    made = Capture(artifact_store, AudioFormat.MP3, 1 << 20, None, (cache, target))
    made.write(b"piper audio")
    await made.commit("piper", 1.0)
    for name in _stored_objects(tmp_path):
        (tmp_path / "artifacts" / name).unlink()
    assert await cache.lookup(target, "mp3") is None


def _link(owner: str = "alice") -> LinkTarget:
    return LinkTarget("file_" + "a" * 32, owner, int(time.time()) + 60)


def _stored_objects(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "artifacts").iterdir() if p.is_file())


async def test_a_completed_response_is_stored_whole(artifact_store: ArtifactStore) -> None:
    capture = Capture(artifact_store, AudioFormat.MP3, 1 << 20, _link(), None)
    for part in (b"ID3", b"-frames-", b"-end"):
        capture.write(part)
    await capture.commit("piper", 1.25)
    file = artifact_store.catalog.link("file_" + "a" * 32, "alice")
    assert (file.bytes, file.duration_s, file.provider) == (len(b"ID3-frames--end"), 1.25, "piper")
    assert await _read_all(artifact_store, file) == b"ID3-frames--end"


async def test_a_stored_wav_has_the_sizes_of_a_complete_file(artifact_store: ArtifactStore) -> None:
    capture = Capture(artifact_store, AudioFormat.WAV, 1 << 20, _link(), None)
    samples = b"\x01\x00" * 500
    capture.write(wav_header())  # streamed wav: sizes unknown
    capture.write(samples)
    await capture.commit("piper", 500 / 24_000)
    data = await _read_all(artifact_store, artifact_store.catalog.link("file_" + "a" * 32, "alice"))
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    assert struct.unpack_from("<I", data, 40)[0] == len(samples)


async def test_a_discarded_or_oversized_response_leaves_nothing(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    abandoned = Capture(artifact_store, AudioFormat.MP3, 1 << 20, _link(), None)
    abandoned.write(b"half a file")
    abandoned.discard()
    await abandoned.commit("piper", 1.0)  # a late commit after a discard stores nothing
    oversized = Capture(artifact_store, AudioFormat.MP3, 10, _link(), None)
    oversized.write(b"0123456789")
    oversized.write(b"!")
    await oversized.commit("piper", 1.0)
    with pytest.raises(UnknownFile):
        artifact_store.catalog.link("file_" + "a" * 32, "alice")
    assert _stored_objects(tmp_path) == []


async def test_the_cache_keeps_only_what_its_keyed_provider_made(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    cache = ResponseCache(artifact_store, CacheSettings(), RouterMetrics(list))
    target = CacheTarget("k" * 64, provider="piper", tenant="")
    by_fallback = Capture(artifact_store, AudioFormat.MP3, 1 << 20, None, (cache, target))
    by_fallback.write(b"espeak audio")
    await by_fallback.commit("espeak", 1.0)
    assert await cache.lookup(target, "mp3") is None
    by_primary = Capture(artifact_store, AudioFormat.MP3, 1 << 20, None, (cache, target))
    by_primary.write(b"piper audio")
    await by_primary.commit("piper", 1.0)
    hit = await cache.lookup(target, "mp3")
    assert hit is not None
    assert b"".join([block async for block in hit.blocks]) == b"piper audio"
    assert len(_stored_objects(tmp_path)) == 1


async def test_a_store_that_is_down_is_a_503_for_files_and_a_miss_for_the_cache(
    tmp_path: Path,
) -> None:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    catalog = FileCatalog(engine)
    # A real S3 client pointed at a port where nothing listens.
    down = S3Storage(
        S3Settings(bucket="chorus-audio", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    )
    failures: list[str] = []
    store = ArtifactStore(down, catalog, failures.append)
    entry = StoredFile("file_" + "c" * 32, "cache", "", "mp3", "piper", 10, 1.0, 0, None)
    catalog.add(entry, cache_key="k" * 64)
    with pytest.raises(ServiceUnavailable):
        await store.read(entry, 0, entry.bytes)
    cache = ResponseCache(store, CacheSettings(), RouterMetrics(list))
    assert await cache.lookup(CacheTarget("k" * 64, "piper", ""), "mp3") is None
    assert failures == ["read", "read"]  # counted, so a broken store is seen
