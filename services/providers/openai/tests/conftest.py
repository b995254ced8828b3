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
