"""One voice stack per database backend for the whole session: SQLite, then PostgreSQL.

Tests that take `stack` run once on each; every test acts as users of its own, so they
share the stack without seeing each other's voices.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from support.postgres_server import PostgresServer
from support.voice_samples import sample
from support.voice_stack import VoiceStack, start_voice_stack


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceStack]:
    stack = start_voice_stack(tmp_path_factory.mktemp("voices-sqlite"), None)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def postgres_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[VoiceStack]:
    url = postgres.create_database("chorus_voices")
    stack = start_voice_stack(tmp_path_factory.mktemp("voices-postgres"), url)
    yield stack
    stack.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest) -> VoiceStack:
    """The same test on both backends."""
    fixture = "sqlite_stack" if request.param == "sqlite" else "postgres_stack"
    found: VoiceStack = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def recording() -> bytes:
    """A good 5-second upload."""
    return sample("wav", seconds=5.0, pitch=170.0)
