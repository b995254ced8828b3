"""The provider contract kit against a real ElevenLabs provider process in front of the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus_provider.testing import ContractTarget, ProviderContract, reference_wav, start_provider
from fakes.process import FakeVendor


@pytest.fixture(scope="module")
def contract(
    elevenlabs_fake: FakeVendor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContractTarget]:
    env = {
        "CHORUS_ELEVENLABS_BASE_URL": elevenlabs_fake.url,
        "CHORUS_ELEVENLABS_API_KEY": elevenlabs_fake.api_key,
        "CHORUS_ELEVENLABS_MAX_CONCURRENCY": "1",
    }
    logs = tmp_path_factory.mktemp("elevenlabs")
    process = start_provider("elevenlabs", logs, env)
    yield ContractTarget(
        url=process.url, voice="21m00Tcm4TlvDq8ikWAM", reference_wav=reference_wav()
    )
    process.stop()


class TestElevenLabsContract(ProviderContract):
    """Everything the router relies on, over HTTP, with ElevenLabs played by its fake."""
