"""Building stored audio from the settings: the filesystem or an S3 bucket behind it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from chorus_router.artifacts.cache import ResponseCache
from chorus_router.artifacts.catalog import FileCatalog
from chorus_router.artifacts.links import LinkPolicy
from chorus_router.artifacts.responses import StoredAudio
from chorus_router.artifacts.s3 import S3Storage
from chorus_router.artifacts.settings import ArtifactSettings
from chorus_router.artifacts.storage import FilesystemStorage, ObjectStorage
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.metrics import RouterMetrics

ARTIFACTS_DIR = "artifacts"


def open_storage(settings: ArtifactSettings, data_dir: Path) -> ObjectStorage:
    """The configured store; an S3 bucket that cannot be reached fails start-up here."""
    if settings.store == "s3":
        storage = S3Storage(settings.s3)
        storage.check()
        return storage
    return FilesystemStorage(settings.directory or data_dir / ARTIFACTS_DIR)


def open_stored_audio(
    settings: ArtifactSettings, data_dir: Path, database: Engine, metrics: RouterMetrics
) -> StoredAudio:
    """Blocking (it may reach the store): call from a worker thread."""
    store = ArtifactStore(
        open_storage(settings, data_dir),
        FileCatalog(database),
        lambda operation: metrics.store_errors.labels(operation).inc(),
    )
    cache = ResponseCache(store, settings.cache, metrics) if settings.cache.enabled else None
    if cache is not None:
        metrics.cache_bytes.set(store.catalog.cache_bytes())
    return StoredAudio(settings, store, LinkPolicy(settings.links), cache)
