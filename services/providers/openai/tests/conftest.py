"""The OpenAI fake, run once per session as a real process; reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.process import FakeVendor, start_fake

API_KEY = "sk-test-0123456789abcdef"


@pytest.fixture(scope="session")
def openai_fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeVendor]:
    fake = start_fake("openai", tmp_path_factory.mktemp("openai-fake"), API_KEY)
    yield fake
    fake.stop()


@pytest.fixture
def fake(openai_fake: FakeVendor) -> FakeVendor:
    openai_fake.reset()
    return openai_fake


@pytest.fixture(scope="session")
def compatible_fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeVendor]:
    """A self-hosted OpenAI-compatible server: one model, whole clips, FastAPI errors."""
    fake = start_fake("compatible", tmp_path_factory.mktemp("compatible-fake"), "unused")
    yield fake
    fake.stop()


@pytest.fixture
def compatible(compatible_fake: FakeVendor) -> FakeVendor:
    compatible_fake.reset()
    return compatible_fake
