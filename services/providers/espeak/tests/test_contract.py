"""The provider contract kit against a real espeak-ng provider process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus_provider.testing import ContractTarget, ProviderContract, start_provider


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractTarget]:
    env = {"CHORUS_ESPEAK_MAX_CONCURRENCY": "1"}
    process = start_provider("espeak", tmp_path_factory.mktemp("espeak"), env)
    yield ContractTarget(url=process.url, voice="en-us")
    process.stop()


class TestEspeakContract(ProviderContract):
    """Everything the router relies on, over HTTP."""
