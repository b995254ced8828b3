"""The OpenAI SDK against the real router in front of this Dia provider, end to end.

The router runs from the repository's main environment (`.venv`, which `make test` builds
first) and Dia from this one: the two never share packages, so they meet only over HTTP, as
in a deployment. eSpeak, a provider that cannot clone, stands next to Dia for the 400.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import av
import httpx
import openai
import pytest
from openai import OpenAI

from chorus_provider.testing import ServiceProcess, free_port, reference_wav

ROOT = Path(__file__).resolve().parents[4]
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
SCRIPT = "[S1] Hello there. [S2] Hi."
# A few frames each: every step of the tiny model is real, and short keeps the suite quick.
SHORT = {"extra_params": {"max_new_tokens": 40}}


@pytest.fixture(scope="module")
def router(dia: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not MAIN_PYTHON.is_file():
        missing = f"{MAIN_PYTHON} is missing: this test starts the router from the main environment"
        if os.environ.get("CHORUS_TEST_OFFLINE_GPU") == "1":
            # make test-cuda, on a GPU machine with no network to build that environment
            # with: the router runs on no GPU, and make test runs this.
            pytest.skip(missing)
        pytest.fail(f"{missing}; run scripts/bootstrap.sh --test first (make test does)")
    logs = tmp_path_factory.mktemp("router")
    espeak_port, router_port = free_port(), free_port()
    registry = logs / "providers.yaml"
    # JSON is YAML, and this environment has no YAML writer.
    entries = [
        {"name": "dia", "url": dia.url, "models": ["dia"]},
        {"name": "espeak", "url": f"http://127.0.0.1:{espeak_port}", "models": ["espeak"]},
    ]
    registry.write_text(json.dumps({"providers": entries}))
    env = {
        "CHORUS_ROUTER_PORT": str(router_port),
        "CHORUS_ROUTER_REGISTRY_FILE": str(registry),
        "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "0.25",
        "CHORUS_ROUTER_DATA_DIR": str(logs / "data"),
        "CHORUS_ROUTER_SECURITY__RATE_LIMITS__UPLOADS_PER_HOUR": "10000",
        "OTEL_SDK_DISABLED": "true",
    }
    python = str(MAIN_PYTHON)
    espeak_env = {"CHORUS_ESPEAK_PORT": str(espeak_port), "CHORUS_ESPEAK_NAME": "espeak"}
    espeak = ServiceProcess(
        "espeak", "chorus_provider", espeak_port, espeak_env, logs, ("espeak",), python
    )
    router = ServiceProcess("router", "chorus_router", router_port, env, logs, python=python)
    try:
        # Started together: each spends most of its start importing, and the router polls.
        espeak.start()
        router.start()
        espeak.wait_ready()
        router.wait_ready("/healthz")
        _wait_for_providers(router.url, {"dia", "espeak"})
        yield router.url
    finally:
        router.stop()
        espeak.stop()


@pytest.fixture
def client(router: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{router}/v1", api_key="unused", max_retries=0, timeout=60) as sdk:
        yield sdk


@pytest.mark.parametrize("response_format", ["wav", "mp3", "flac", "opus"])
def test_speech_in_each_format(
    client: OpenAI, response_format: Literal["wav", "mp3", "flac", "opus"]
) -> None:
    response = client.audio.speech.with_raw_response.create(
        model="dia", voice="S1", input=SCRIPT, response_format=response_format, extra_body=SHORT
    )
    assert response.headers["x-chorus-provider"] == "dia"
    seconds = _decoded_seconds(response.content)
    # 40 steps make 38 frames of 512 samples at 44.1 kHz; lossy encoders add a frame or two.
    assert seconds == pytest.approx(38 * 512 / 44_100, abs=0.06), response_format
    if response_format == "wav":
        with wave.open(io.BytesIO(response.content)) as wav:
            assert wav.getnframes() > 0


def test_uploaded_voice_reaches_dia_as_a_reference(client: OpenAI, dia: ServiceProcess) -> None:
    sample = reference_wav(seconds=5.0)
    consent = client.audio.voice_consents.create(
        name="Dia speaker", language="en", recording=("consent.wav", sample, "audio/wav")
    )
    voice = client.audio.voices.create(
        name="Dia speaker", consent=consent.id, audio_sample=("sample.wav", sample, "audio/wav")
    )
    before = _counter(dia.url, "chorus_provider_voice_reference_requests_total")
    response = client.audio.speech.with_raw_response.create(
        model="dia", voice={"id": voice.id}, input=SCRIPT, response_format="wav", extra_body=SHORT
    )
    assert response.headers["x-chorus-provider"] == "dia"
    assert _decoded_seconds(response.content) > 0
    # Dia's own count: the router sent the stored sample with the request.
    assert _counter(dia.url, "chorus_provider_voice_reference_requests_total") == before + 1

    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.speech.create(model="espeak", voice={"id": voice.id}, input="Hello.")
    error: Any = refused.value.body
    assert error["code"] == "voice_cloning_unsupported"
    assert "Models that can: dia" in error["message"]


def test_streamed_speech_arrives_in_chunks_while_dia_generates(
    client: OpenAI, dia: ServiceProcess
) -> None:
    # 200 steps: long enough that the first chunk comes back before generation ends.
    with client.audio.speech.with_streaming_response.create(
        model="dia",
        voice="S2",
        input=SCRIPT,
        response_format="pcm",
        extra_body={"extra_params": {"max_new_tokens": 200}},
    ) as response:
        assert response.headers["x-chorus-provider"] == "dia"
        chunks = response.iter_bytes()
        first = next(chunks)
        generating = _counter(dia.url, "chorus_provider_in_flight_requests")
        rest = list(chunks)
    assert first
    assert generating == 1, "Dia had finished before the first audio arrived"
    assert rest, "the whole answer came in one chunk"
    pcm = first + b"".join(rest)
    # PCM is 24 kHz 16-bit mono: 198 frames of 512 samples at 44.1 kHz, resampled.
    assert len(pcm) / 2 / 24_000 == pytest.approx(198 * 512 / 44_100, abs=0.05)


def _wait_for_providers(router: str, names: set[str], timeout_s: float = 60) -> None:
    url = f"{router}/api/v1/audio/providers"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = httpx.get(url, timeout=5).json()
        if {p["name"] for p in body["providers"] if p["ready"]} == names:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the router never saw {names} ready: {body}")


def _counter(url: str, name: str) -> float:
    """A sample without labels from the provider's own /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def _decoded_seconds(encoded: bytes) -> float:
    """Decode the whole file with FFmpeg (PyAV); its length in seconds."""
    samples, rate = 0, 0
    with av.open(io.BytesIO(encoded), mode="r") as container:
        for frame in container.decode(audio=0):
            samples += frame.samples
            rate = frame.sample_rate
    assert rate > 0, "no audio decoded"
    return samples / rate
