"""The provider contract, and what Higgs adds to it, against the real service process.

The process loads the tiny checkpoint from MODEL_PATH through the real loading code; text
goes through the real processor, `generate`, delay-pattern reverting and codec decoding.
"""

from __future__ import annotations

import base64
import re

import httpx
import numpy as np
import pytest
from budget import FRAME_RATE, MAX_AUDIO_S, SECONDS_PER_CHAR

from chorus_provider.testing import (
    ContractTarget,
    ProviderContract,
    ServiceProcess,
    reference_wav,
    wait_until_idle,
)


@pytest.fixture(scope="module")
def contract(higgs: ServiceProcess) -> ContractTarget:
    return ContractTarget(
        url=higgs.url,
        voice="smart",
        long_text="This sentence keeps the engine busy.",
        reference_wav=reference_wav(seconds=2.0),
    )


class TestHiggsContract(ProviderContract):
    """Everything the router relies on, over HTTP."""


def speak(higgs: ServiceProcess, **fields: object) -> httpx.Response:
    body = {"text": "Hello there.", "voice": "smart", **fields}
    return httpx.post(f"{higgs.url}/v1/synthesize", json=body, timeout=60)


def seconds_of(response: httpx.Response) -> float:
    assert response.status_code == 200, response.text[:300]
    return len(np.frombuffer(response.content, dtype="<i2")) / 24_000


def test_the_audio_lasts_the_length_budget_of_the_text(higgs: ServiceProcess) -> None:
    # The tiny model never ends its audio by itself, so the budget decides: 1 s plus
    # 0.1 s a character, in whole 40 ms frames.
    text = "Twenty characters!!!"
    assert seconds_of(speak(higgs, text=text)) == pytest.approx(1 + len(text) * SECONDS_PER_CHAR)


def test_instructions_set_the_scene_and_a_transcript_enables_zero_shot_cloning(
    higgs: ServiceProcess,
) -> None:
    reference = base64.b64encode(reference_wav(seconds=1.0)).decode("ascii")
    assert seconds_of(speak(higgs, instructions="Recorded on a windy beach.")) > 0
    cloned = speak(higgs, voice_reference=reference, voice_reference_text="What it says.")
    assert seconds_of(cloned) > 0


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"speed": 1.5}, "speed"),
        ({"language": "fr"}, "lang_code"),
        ({"instructions": "x" * 1001}, "instructions"),
        ({"voice_reference_text": "no reference with it"}, "voice_reference_text"),
        ({"extra": {"temperature": 9}}, "extra_params"),
    ],
)
def test_what_higgs_cannot_do_is_refused_before_any_audio(
    higgs: ServiceProcess, fields: dict[str, object], param: str
) -> None:
    response = speak(higgs, **fields)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"]["param"] == param


def test_leaving_stops_generation_within_steps_not_at_the_end(higgs: ServiceProcess) -> None:
    text = "Keep talking. " * 140  # a two-minute budget: 3000 frames
    body = {"text": text, "voice": "smart"}
    with httpx.stream("POST", f"{higgs.url}/v1/synthesize", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert next(response.iter_raw())
    wait_until_idle(higgs.url, 60)
    generated = [int(n) for n in re.findall(r"higgs generated (\d+) frames", higgs.log())]
    assert generated, "the provider logs how many frames each generation made"
    assert generated[-1] < MAX_AUDIO_S * FRAME_RATE / 4
