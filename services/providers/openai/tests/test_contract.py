"""The provider contract kit against a real OpenAI provider process in front of the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus_provider.testing import ContractTarget, ProviderContract, start_provider
from fakes.process import FakeVendor


@pytest.fixture(scope="module")
def contract(
    openai_fake: FakeVendor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContractTarget]:
    env = {
        "CHORUS_OPENAI_BASE_URL": f"{openai_fake.url}/v1",
        "CHORUS_OPENAI_API_KEY": openai_fake.api_key,
        "CHORUS_OPENAI_MAX_CONCURRENCY": "1",
    }
    process = start_provider("openai", tmp_path_factory.mktemp("openai"), env)
    yield ContractTarget(url=process.url, voice="alloy")
    process.stop()


class TestOpenAIContract(ProviderContract):
    """Everything the router relies on, over HTTP, with OpenAI played by its fake."""
