"""The provider contract test kit: what every provider package runs against its own service.

A provider's tests start its real service (`ServiceProcess`), describe it in a
`ContractTarget` fixture named `contract`, and subclass `ProviderContract`; pytest then runs
the whole contract (capabilities, streamed PCM, error shapes, bad input, cancel, voice
references when cloning is declared) against that process over HTTP.
"""

from chorus_provider.testing.contract import (
    ContractTarget,
    ProviderContract,
    wait_until_idle,
    wait_until_in_flight,
)
from chorus_provider.testing.process import ServiceProcess, free_port, start_provider
from chorus_provider.testing.samples import reference_wav
from chorus_provider.testing.together import same_audio, synthesize, synthesize_together

__all__ = [
    "ContractTarget",
    "ProviderContract",
    "ServiceProcess",
    "free_port",
    "reference_wav",
    "same_audio",
    "start_provider",
    "synthesize",
    "synthesize_together",
    "wait_until_idle",
    "wait_until_in_flight",
]
