"""Fixtures shared by the router's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chorus_router.artifacts.catalog import FileCatalog
from chorus_router.artifacts.storage import FilesystemStorage
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate
from support.scripted_providers import Routed, routed_providers


@pytest.fixture
async def routed() -> AsyncIterator[Routed]:
    """The routing parts over two real in-process providers (see support.scripted_providers)."""
    async with routed_providers() as providers:
        yield providers


@pytest.fixture
def artifact_store(tmp_path: Path) -> ArtifactStore:
    """Download links and cached audio on the local disk, catalogued in SQLite."""
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    return ArtifactStore(
        FilesystemStorage(tmp_path / "artifacts"), FileCatalog(engine), lambda _: None
    )
