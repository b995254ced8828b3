"""Both object stores keep the same contract, against a real S3-compatible server; the file
rows keep theirs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chorus_contracts import StorageQuotaExceeded, UnknownFile
from chorus_router.artifacts.catalog import FileCatalog, StoredFile, now_us
from chorus_router.artifacts.s3 import S3Storage
from chorus_router.artifacts.settings import S3Settings
from chorus_router.artifacts.storage import FilesystemStorage, ObjectMissing, ObjectStorage
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate
from support.postgres_server import PostgresServer
from support.s3_server import REGION, S3Server

AUDIO = bytes(range(256)) * 1000  # 256 kB: several read blocks


@pytest.fixture(params=["filesystem", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStorage:
    if request.param == "filesystem":
        return FilesystemStorage(tmp_path / "artifacts")
    server: S3Server = request.getfixturevalue("s3_server")
    settings = S3Settings(
        bucket=server.create_bucket(),
        endpoint_url=server.endpoint_url,
        region=REGION,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
    )
    s3 = S3Storage(settings)
    s3.check()
    return s3


def _read(storage: ObjectStorage, key: str, start: int, length: int) -> bytes:
    return b"".join(storage.read(key, start, length))


def test_a_published_object_reads_back_whole_and_by_range(storage: ObjectStorage) -> None:
    storage.publish("file_1.mp3", io.BytesIO(AUDIO), "audio/mpeg")
    assert _read(storage, "file_1.mp3", 0, len(AUDIO)) == AUDIO
    assert _read(storage, "file_1.mp3", 1000, 70_000) == AUDIO[1000:71_000]
    assert _read(storage, "file_1.mp3", len(AUDIO) - 5, 5) == AUDIO[-5:]


def test_one_spool_publishes_under_two_keys(storage: ObjectStorage) -> None:
    # A response stored both as a download link and as a cache entry.
    spool = io.BytesIO(AUDIO)
    storage.publish("file_4.mp3", spool, "audio/mpeg")
    storage.publish("file_5.mp3", spool, "audio/mpeg")
    assert _read(storage, "file_5.mp3", 0, len(AUDIO)) == AUDIO


def test_missing_and_deleted_objects_are_missing(storage: ObjectStorage) -> None:
    with pytest.raises(ObjectMissing):
        _read(storage, "file_2.wav", 0, 10)
    storage.publish("file_2.wav", io.BytesIO(b"RIFF"), "audio/wav")
    storage.delete("file_2.wav")
    storage.delete("file_2.wav")  # twice is fine
    with pytest.raises(ObjectMissing):
        _read(storage, "file_2.wav", 0, 10)


@pytest.mark.parametrize("key", ["../etc/passwd", "a/b.mp3", "file_1", "FILE.mp3", ".mp3"])
def test_keys_that_are_not_artifact_names_are_refused(storage: ObjectStorage, key: str) -> None:
    with pytest.raises(ValueError, match="not an artifact key"):
        storage.publish(key, io.BytesIO(b"x"), "audio/mpeg")


def test_a_filesystem_object_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    storage.publish("file_3.pcm", io.BytesIO(AUDIO), "audio/pcm")
    # Publication went through a temporary name that is gone now.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".incoming", "file_3.pcm"]
    assert list((tmp_path / ".incoming").iterdir()) == []


# The catalog, on both databases


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = open_engine(database_url(None, tmp_path))
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"files_{tmp_path.name[-8:].lower()}_{time.time_ns() % 10**6}")
        engine = open_engine(database_url(url, tmp_path))
    migrate(engine)
    yield engine
    engine.dispose()


def _file(file_id: str, owner: str = "alice", size: int = 100, **changes: object) -> StoredFile:
    values: dict[str, object] = {
        "id": file_id,
        "kind": "link",
        "owner": owner,
        "format": "mp3",
        "provider": "piper",
        "bytes": size,
        "duration_s": 1.5,
        "created_us": now_us(),
        "expires_us": now_us() + 3_600_000_000,
        **changes,
    }
    return StoredFile(**values)  # type: ignore[arg-type]


def test_links_belong_to_their_owner_until_they_expire(database: Engine) -> None:
    catalog = FileCatalog(database)
    assert catalog.add(_file("file_a"))
    assert catalog.add(_file("file_old", expires_us=now_us() - 1))
    assert catalog.link("file_a", "alice").bytes == 100
    assert catalog.link("file_a", None).owner == "alice"  # a signature vouched for it
    for file_id, owner in (("file_a", "bob"), ("file_old", "alice"), ("file_none", "alice")):
        with pytest.raises(UnknownFile):
            catalog.link(file_id, owner)
    with pytest.raises(UnknownFile):
        catalog.delete_link("file_a", "bob")
    assert catalog.delete_link("file_a", "alice").id == "file_a"
    with pytest.raises(UnknownFile):
        catalog.link("file_a", "alice")
    assert [f.id for f in catalog.expired()] == ["file_old"]
    assert catalog.expired() == []


def test_a_full_quota_refuses_new_links_until_one_expires(database: Engine) -> None:
    catalog = FileCatalog(database)
    catalog.add(_file("file_big", size=2000))
    catalog.check_link_quota("alice", 2001)
    with pytest.raises(StorageQuotaExceeded) as refused:
        catalog.check_link_quota("alice", 2000)
    assert refused.value.status == 429
    catalog.check_link_quota("bob", 2000)  # quotas are per user


def test_the_cache_evicts_least_recently_used_first(database: Engine) -> None:
    catalog = FileCatalog(database)
    for n in range(3):
        entry = _file(f"file_c{n}", owner="", kind="cache", size=100, expires_us=None)
        assert catalog.add(entry, cache_key=f"key{n}")
        time.sleep(0.002)
    # The same key twice: the second writer loses and keeps nothing.
    assert not catalog.add(_file("file_dup", kind="cache", expires_us=None), cache_key="key0")
    assert catalog.cached("key0") is not None  # now the most recently used
    assert catalog.cached("nope") is None
    dropped, remaining = catalog.evict(max_bytes=200)
    assert [f.id for f in dropped] == ["file_c1"]
    assert remaining == 200 == catalog.cache_bytes()
    assert catalog.cached("key1") is None
    assert catalog.cached("key2") is not None
