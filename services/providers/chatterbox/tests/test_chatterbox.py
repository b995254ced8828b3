"""What Chatterbox adds to the contract: typed extra params, the watermark, token budgets,
per-token cancel."""

from __future__ import annotations

import re
import time

import httpx
import numpy as np
import pytest

from chorus_provider.testing import ServiceProcess

SAMPLES_PER_TOKEN = 960  # S3Gen: one speech token is two mel frames of 480 samples at 24 kHz
_CANCEL_TO_IDLE = re.compile(r"^chorus_provider_cancel_to_idle_seconds_(sum|count) (\S+)$", re.M)


def _speak(url: str, **body: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/synthesize", json={"voice": "default", **body}, timeout=240)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"exaggeration": 2.5}, "extra.exaggeration"),
        ({"cfg_weight": -0.1}, "extra.cfg_weight"),
        ({"temperature": 0}, "extra.temperature"),
        ({"loudness": 1}, "extra.loudness"),
    ],
)
def test_extra_params_out_of_range_are_a_400_naming_the_field(
    chatterbox: ServiceProcess, extra: dict[str, float], field: str
) -> None:
    response = _speak(chatterbox.url, text="Hi.", extra=extra)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field


def test_the_watermark_is_declared(chatterbox: ServiceProcess) -> None:
    capabilities = httpx.get(f"{chatterbox.url}/v1/capabilities", timeout=10).json()
    assert capabilities["audio_watermark"] == "perth-implicit"
    assert capabilities["voice_cloning"] is True


def test_a_sentence_stops_at_its_token_budget(chatterbox: ServiceProcess) -> None:
    # 10 tokens at most ("Hi." is 3 characters; the minimum is 10), and the extra params
    # within range are taken.
    response = _speak(chatterbox.url, text="Hi.", extra={"exaggeration": 1.0, "cfg_weight": 0.3})
    assert response.status_code == 200, response.text
    samples = np.frombuffer(response.content, dtype="<i2")
    assert 0 < len(samples) <= 10 * SAMPLES_PER_TOKEN
    assert np.abs(samples).max() > 0


def test_a_client_leaving_stops_generation_within_tokens(chatterbox: ServiceProcess) -> None:
    started = time.monotonic()
    long_sentence = "A sentence long enough to need many tokens of speech to say it all."
    assert _speak(chatterbox.url, text=long_sentence).status_code == 200
    one_sentence_s = time.monotonic() - started
    idle_before = _cancel_to_idle(chatterbox.url)

    body = {"voice": "default", "text": f"Hi. {long_sentence} {long_sentence}"}
    with httpx.stream(
        "POST", f"{chatterbox.url}/v1/synthesize", json=body, timeout=240
    ) as response:
        assert response.status_code == 200
        assert next(response.iter_raw())  # "Hi." is out; the long sentence is generating
    deadline = time.monotonic() + 120
    while _cancel_to_idle(chatterbox.url)[1] == idle_before[1]:
        assert time.monotonic() < deadline, "the cancelled synthesis never went idle"
        time.sleep(0.05)
    total, count = _cancel_to_idle(chatterbox.url)
    assert (total - idle_before[0]) / (count - idle_before[1]) < one_sentence_s / 2


def _cancel_to_idle(url: str) -> tuple[float, float]:
    found = dict(_CANCEL_TO_IDLE.findall(httpx.get(f"{url}/metrics", timeout=10).text))
    return float(found.get("sum", 0)), float(found.get("count", 0))
