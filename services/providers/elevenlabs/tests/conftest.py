"""The ElevenLabs fake, run once per session as a real process and reset before each test;
engines pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chorus_elevenlabs.engine import ElevenLabsEngine
from chorus_elevenlabs.settings import ElevenLabsSettings
from fakes.process import FakeVendor, start_fake


@pytest.fixture(scope="session")
def elevenlabs_fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeVendor]:
    fake = start_fake("elevenlabs", tmp_path_factory.mktemp("elevenlabs-fake"), "xi-test-key-4242")
    yield fake
    fake.stop()


@pytest.fixture
def fake(elevenlabs_fake: FakeVendor) -> FakeVendor:
    elevenlabs_fake.reset()
    return elevenlabs_fake


@pytest.fixture
def settings_for(fake: FakeVendor) -> Callable[..., ElevenLabsSettings]:
    """Settings for the fake with short waits; keyword arguments override them."""

    def settings(**overrides: Any) -> ElevenLabsSettings:
        values: dict[str, Any] = {
            "base_url": fake.url,
            "api_key": fake.api_key,
            "read_timeout_s": 1.0,
            "voice_list_retry_s": 0.1,
            **overrides,
        }
        return ElevenLabsSettings(**values)

    return settings


@pytest.fixture
async def engine(
    settings_for: Callable[..., ElevenLabsSettings],
) -> AsyncIterator[ElevenLabsEngine]:
    engine = ElevenLabsEngine(settings_for())
    await engine.load()
    yield engine
    await engine.close()
