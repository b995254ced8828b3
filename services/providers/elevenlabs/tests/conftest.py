"""The ElevenLabs fake, run once per session as a real process; reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
