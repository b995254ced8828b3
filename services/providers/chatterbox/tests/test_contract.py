"""The provider contract kit against a real Chatterbox process serving the tiny model."""

from __future__ import annotations

import pytest

from chorus_provider.testing import (
    ContractTarget,
    ProviderContract,
    ServiceProcess,
    reference_wav,
)


@pytest.fixture(scope="module")
def contract(chatterbox: ServiceProcess) -> ContractTarget:
    return ContractTarget(
        url=chatterbox.url,
        voice="default",
        text="Hi.",
        long_text="One. Two. Three. Four.",
        reference_wav=reference_wav(seconds=2.0, sample_rate=24_000),
        timeout_s=240,
    )


class TestChatterboxContract(ProviderContract):
    """punc_norm and the tokenizer, T3 sampling, S3Gen flow + HiFT, Perth, over HTTP."""
