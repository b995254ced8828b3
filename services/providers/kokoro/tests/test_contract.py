"""The provider contract kit against a real Kokoro provider process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus_provider.testing import ContractTarget, ProviderContract, start_provider


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractTarget]:
    logs = tmp_path_factory.mktemp("kokoro")
    env = {"CHORUS_KOKORO_MAX_CONCURRENCY": "1"}
    process = start_provider("kokoro", logs, env)
    yield ContractTarget(url=process.url, voice="jf_alpha")
    process.stop()


class TestKokoroContract(ProviderContract):
    """Everything the router relies on, over HTTP."""
