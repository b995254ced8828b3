"""The provider contract kit against a real NeuTTS process serving the tiny weights."""

from __future__ import annotations

import pytest

from chorus_provider.testing import (
    ContractTarget,
    ProviderContract,
    ServiceProcess,
    reference_wav,
)


@pytest.fixture(scope="module")
def contract(neutts: ServiceProcess) -> ContractTarget:
    return ContractTarget(
        url=neutts.url,
        voice="emily",
        text="Hi.",
        long_text="One. Two. Three. Four.",
        reference_wav=reference_wav(seconds=2.0, sample_rate=24_000),
        reference_text="A short sample.",
        timeout_s=240,
    )


class TestNeuTTSContract(ProviderContract):
    """Phonemes through espeak-ng, the backbone's generate, NeuCodec decode, over HTTP."""
