"""The provider contract kit against a real Dia provider process serving the tiny model."""

from __future__ import annotations

import pytest

from chorus_provider.testing import (
    ContractTarget,
    ProviderContract,
    ServiceProcess,
    reference_wav,
)


@pytest.fixture(scope="module")
def contract(dia: ServiceProcess) -> ContractTarget:
    return ContractTarget(
        url=dia.url,
        voice="S1",
        text="[S1] Hello there. [S2] Hi!",
        reference_wav=reference_wav(seconds=1.0),
        reference_text="[S1] A short sample.",
        # 12 steps make 10 frames (3 windows); 3000 steps run for minutes unless cancelled.
        extra={"max_new_tokens": 12},
        long_extra={"max_new_tokens": 3000},
        timeout_s=20,
    )


class TestDiaContract(ProviderContract):
    """Text through Dia's processor, generate, the DAC decoder and our streaming, over HTTP."""
