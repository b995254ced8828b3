"""The provider contract, and what VibeVoice adds to it, against the real service process.

The process loads the tiny checkpoint from MODEL_PATH through the real loading code; the
script goes through the real processor, `generate` (language model, diffusion head, noise
scheduler) and the model's streaming acoustic decoder.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from chorus_provider.testing import (
    ContractTarget,
    ProviderContract,
    ServiceProcess,
    reference_wav,
    start_provider,
    wait_until_idle,
)

FRAME_S = 3200 / 24_000
SECONDS_PER_CHAR = 0.1


@pytest.fixture(scope="module")
def vibevoice(
    tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    env = {
        "CHORUS_VIBEVOICE_MODEL_PATH": str(tiny_checkpoint),
        "CHORUS_VIBEVOICE_SECONDS_PER_CHAR": str(SECONDS_PER_CHAR),
        "CHORUS_VIBEVOICE_DIFFUSION_STEPS": "2",
        "HF_HUB_OFFLINE": "1",
        # Two cores shared with other suites: one torch thread per generation keeps torch's
        # spinning worker threads from starving each other.
        "OMP_NUM_THREADS": "1",
    }
    logs = tmp_path_factory.mktemp("vibevoice")
    process = start_provider("vibevoice", logs, env)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def contract(vibevoice: ServiceProcess) -> ContractTarget:
    return ContractTarget(
        url=vibevoice.url,
        voice="smart",
        long_text="Speaker 1: This keeps the engine busy.",
        reference_wav=reference_wav(seconds=2.0),
    )


class TestVibeVoiceContract(ProviderContract):
    """Everything the router relies on, over HTTP."""


def wav64(seconds: float) -> str:
    return base64.b64encode(reference_wav(seconds=seconds)).decode("ascii")


def speak(vibevoice: ServiceProcess, **fields: object) -> httpx.Response:
    body = {"text": "Hello there.", "voice": "smart", **fields}
    return httpx.post(f"{vibevoice.url}/v1/synthesize", json=body, timeout=60)


def test_a_dialogue_clones_each_speaker_it_has_a_reference_for(vibevoice: ServiceProcess) -> None:
    script = "Speaker 1: Welcome to the show.\nSpeaker 2: Glad to be here.\nSpeaker 1: Let's go."
    response = speak(
        vibevoice,
        text=script,
        voice_reference=wav64(1.0),
        extra={"speaker_references": {"2": wav64(0.5)}},
    )
    assert response.status_code == 200, response.text[:300]
    # The tiny model speaks until the budget: 1 s plus 0.1 s a character, in whole frames
    # (and two for the end-of-speech tokens the budget leaves room for).
    seconds = len(np.frombuffer(response.content, dtype="<i2")) / 24_000
    frames = -(-(1 + len(script) * SECONDS_PER_CHAR) // FRAME_S) + 2
    assert seconds == pytest.approx(frames * FRAME_S)
    assert "vibevoice generated" in vibevoice.log()
    assert re.findall(r"for (\d) speakers \((\d) cloned\)", vibevoice.log())[-1] == ("2", "2")


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"speed": 0.5}, "speed"),
        ({"language": "de"}, "lang_code"),
        ({"text": "\n".join(f"Speaker {n}: Hi." for n in range(1, 6))}, "text"),
        ({"extra": {"speaker_references": {"3": "UklGRg=="}}}, "extra_params"),
        (
            {"voice_reference": "UklGRg==", "extra": {"speaker_references": {"1": "UklGRg=="}}},
            "extra_params",
        ),
        ({"extra": {"speaker_references": {"1": "not a wav"}}}, "voice_reference"),
        ({"extra": {"diffusion_steps": 0}}, "extra_params"),
    ],
)
def test_what_vibevoice_cannot_do_is_refused_before_any_audio(
    vibevoice: ServiceProcess, fields: dict[str, object], param: str
) -> None:
    response = speak(vibevoice, **fields)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"]["param"] == param


def test_leaving_stops_generation_within_steps_not_at_the_end(vibevoice: ServiceProcess) -> None:
    text = "Keep talking. " * 140  # a budget of about 1480 frames (three minutes)
    body = {"text": text, "voice": "smart"}
    with httpx.stream("POST", f"{vibevoice.url}/v1/synthesize", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert next(response.iter_raw())
    wait_until_idle(vibevoice.url, 60)
    generated = [int(n) for n in re.findall(r"vibevoice generated (\d+) frames", vibevoice.log())]
    assert generated[-1] < 1480 / 4
