"""What NeuTTS adds to the contract: transcripts for cloning, code budgets, per-step cancel."""

from __future__ import annotations

import base64
import re
import time

import httpx
import numpy as np

from chorus_provider.testing import ServiceProcess, reference_wav

HOP = 480  # NeuCodec: one code is 480 samples at 24 kHz
_CANCEL_TO_IDLE = re.compile(r"^chorus_provider_cancel_to_idle_seconds_(sum|count) (\S+)$", re.M)


def _speak(url: str, **body: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/synthesize", json={"voice": "emily", **body}, timeout=240)


def test_cloning_without_the_transcript_is_a_400_naming_it(neutts: ServiceProcess) -> None:
    encoded = base64.b64encode(reference_wav(seconds=2.0)).decode("ascii")
    response = _speak(neutts.url, text="Hello.", voice_reference=encoded)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "voice_reference_text"


def test_a_sentence_is_its_generated_codes_decoded(neutts: ServiceProcess) -> None:
    # A random backbone never ends a sentence itself: the 50-token budget does. NeuCodec
    # turns each speech code into exactly one hop of audio; a sampled token that is not a
    # speech code (the random model can pick text tokens) is dropped, as NeuTTS drops it.
    response = _speak(neutts.url, text="Hi.")
    assert response.status_code == 200, response.text
    samples = np.frombuffer(response.content, dtype="<i2")
    assert len(samples) % HOP == 0
    assert 40 * HOP <= len(samples) <= 50 * HOP
    assert np.abs(samples).max() > 0


def test_a_client_leaving_stops_generation_within_steps(neutts: ServiceProcess) -> None:
    started = time.monotonic()
    assert _speak(neutts.url, text="Hi.").status_code == 200
    one_sentence_s = time.monotonic() - started
    calls_before = neutts.log_path.read_text().count("Using seed")
    idle_before = _cancel_to_idle(neutts.url)

    body = {"voice": "emily", "text": "One. Two. Three. Four. Five."}
    with httpx.stream("POST", f"{neutts.url}/v1/synthesize", json=body, timeout=240) as response:
        assert response.status_code == 200
        assert next(response.iter_raw())  # sentence one is out; sentence two is generating
    deadline = time.monotonic() + 120
    while _cancel_to_idle(neutts.url)[1] == idle_before[1]:
        assert time.monotonic() < deadline, "the cancelled synthesis never went idle"
        time.sleep(0.05)
    total, count = _cancel_to_idle(neutts.url)
    # Stopped inside sentence two, at a generated token: far sooner than a whole sentence,
    # and sentences three to five never started.
    assert (total - idle_before[0]) / (count - idle_before[1]) < one_sentence_s / 2
    assert neutts.log_path.read_text().count("Using seed") - calls_before <= 2


def _cancel_to_idle(url: str) -> tuple[float, float]:
    found = dict(_CANCEL_TO_IDLE.findall(httpx.get(f"{url}/metrics", timeout=10).text))
    return float(found.get("sum", 0)), float(found.get("count", 0))
